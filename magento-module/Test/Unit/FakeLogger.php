<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Psr\Log\LoggerInterface;

/**
 * A logger that keeps its messages.
 */
class FakeLogger implements LoggerInterface
{
    /**
     * @var string[]
     */
    public array $messages = [];

    /**
     * @inheritDoc
     */
    public function warning($message, array $context = [])
    {
        $this->messages[] = 'warning: ' . $message;
    }

    /**
     * @inheritDoc
     */
    public function info($message, array $context = [])
    {
        $this->messages[] = 'info: ' . $message;
    }
}
