<?php
declare(strict_types=1);

namespace Magento\Store\Api\Data;

/**
 * Stub of Magento's store view, for the unit tests.
 */
interface StoreInterface
{
    /**
     * The store view's id.
     *
     * @return int
     */
    public function getId();

    /**
     * The store view's code.
     *
     * @return string
     */
    public function getCode();
}
