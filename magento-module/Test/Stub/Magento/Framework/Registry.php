<?php
declare(strict_types=1);

namespace Magento\Framework;

/**
 * Stub of Magento's request registry, for the unit tests.
 */
class Registry
{
    /**
     * @var array<string, mixed>
     */
    private array $data = [];

    /**
     * The value registered under a key, or null.
     *
     * @param string $key
     * @return mixed
     */
    public function registry($key)
    {
        return $this->data[$key] ?? null;
    }

    /**
     * Register a value under a key.
     *
     * @param string $key
     * @param mixed $value
     * @param bool $graceful
     * @return void
     */
    public function register($key, $value, $graceful = false): void
    {
        $this->data[$key] = $value;
    }
}
