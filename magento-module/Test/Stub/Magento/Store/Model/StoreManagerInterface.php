<?php
declare(strict_types=1);

namespace Magento\Store\Model;

/**
 * Stub of Magento's store manager, for the unit tests.
 */
interface StoreManagerInterface
{
    /**
     * The current (or the given) store view.
     *
     * @param null|string|bool|int $storeId
     * @return \Magento\Store\Api\Data\StoreInterface
     */
    public function getStore($storeId = null);
}
