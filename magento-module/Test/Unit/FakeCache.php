<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Framework\App\CacheInterface;

/**
 * An in-memory cache that remembers each entry's lifetime.
 */
class FakeCache implements CacheInterface
{
    /**
     * @var array<string, array{0: string, 1: int|null}>
     */
    public array $entries = [];

    /**
     * @inheritDoc
     */
    public function load($identifier)
    {
        return isset($this->entries[$identifier]) ? $this->entries[$identifier][0] : false;
    }

    /**
     * @inheritDoc
     */
    public function save($data, $identifier, $tags = [], $lifeTime = null)
    {
        $this->entries[$identifier] = [$data, $lifeTime];
        return true;
    }
}
