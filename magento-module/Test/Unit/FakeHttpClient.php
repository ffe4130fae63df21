<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Framework\HTTP\ClientInterface;

/**
 * An HTTP client answering from a URL => [status, body] table; unknown URLs fail like a refused
 * connection. Records every request and timeout.
 */
class FakeHttpClient implements ClientInterface
{
    /**
     * @var string[]
     */
    public array $requests = [];

    /**
     * @var int[]
     */
    public array $timeouts = [];

    /**
     * @var array{0: int, 1: string}
     */
    private array $response = [0, ''];

    /**
     * @param array<string, array{0: int, 1: string}> $answers
     */
    public function __construct(private array $answers)
    {
    }

    /**
     * @inheritDoc
     */
    public function setTimeout($value)
    {
        $this->timeouts[] = $value;
    }

    /**
     * @inheritDoc
     */
    public function get($uri)
    {
        $this->requests[] = $uri;
        if (!isset($this->answers[$uri])) {
            throw new \RuntimeException('Connection refused');
        }
        $this->response = $this->answers[$uri];
    }

    /**
     * @inheritDoc
     */
    public function getStatus()
    {
        return $this->response[0];
    }

    /**
     * @inheritDoc
     */
    public function getBody()
    {
        return $this->response[1];
    }
}
