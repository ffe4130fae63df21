<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

/**
 * The current product, as far as the view model reads it: its SKU.
 */
class FakeProduct
{
    /**
     * @param string $sku
     */
    public function __construct(private string $sku)
    {
    }

    /**
     * The product's SKU.
     *
     * @return string
     */
    public function getSku(): string
    {
        return $this->sku;
    }
}
