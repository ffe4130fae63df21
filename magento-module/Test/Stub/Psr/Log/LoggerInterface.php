<?php
declare(strict_types=1);

namespace Psr\Log;

/**
 * Stub of PSR-3's logger interface (the levels the module uses), for the unit tests.
 */
interface LoggerInterface
{
    /**
     * Log a warning.
     *
     * @param string|\Stringable $message
     * @param array $context
     * @return void
     */
    public function warning($message, array $context = []);

    /**
     * Log an informational message.
     *
     * @param string|\Stringable $message
     * @param array $context
     * @return void
     */
    public function info($message, array $context = []);
}
