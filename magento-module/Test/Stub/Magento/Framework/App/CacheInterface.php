<?php
declare(strict_types=1);

namespace Magento\Framework\App;

/**
 * Stub of Magento's cache interface (the methods the module uses), for the unit tests.
 */
interface CacheInterface
{
    /**
     * Load data from the cache.
     *
     * @param string $identifier
     * @return string|false
     */
    public function load($identifier);

    /**
     * Save data to the cache.
     *
     * @param string $data
     * @param string $identifier
     * @param array $tags
     * @param int|null $lifeTime
     * @return bool
     */
    public function save($data, $identifier, $tags = [], $lifeTime = null);
}
