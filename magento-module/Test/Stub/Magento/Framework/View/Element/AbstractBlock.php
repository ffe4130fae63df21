<?php
declare(strict_types=1);

namespace Magento\Framework\View\Element;

/**
 * Stub of Magento's block base class, for the unit tests.
 */
abstract class AbstractBlock
{
    /**
     * @var array<string, mixed>
     */
    protected array $data = [];

    /**
     * A value from the block's data.
     *
     * @param string $key
     * @return mixed
     */
    public function getData($key = '')
    {
        return $this->data[$key] ?? null;
    }
}
