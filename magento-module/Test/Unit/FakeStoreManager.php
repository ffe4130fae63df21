<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Store\Api\Data\StoreInterface;
use Magento\Store\Model\StoreManagerInterface;

/**
 * A store manager whose current store is fixed, or that throws as Magento's does without one.
 */
class FakeStoreManager implements StoreManagerInterface
{
    /**
     * @param StoreInterface|null $store
     */
    public function __construct(private ?StoreInterface $store)
    {
    }

    /**
     * @inheritDoc
     */
    public function getStore($storeId = null)
    {
        if ($this->store === null) {
            throw new \RuntimeException('no store');
        }
        return $this->store;
    }
}
