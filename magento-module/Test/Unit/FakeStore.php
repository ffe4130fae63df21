<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Store\Api\Data\StoreInterface;

/**
 * A store view with an id and a code.
 */
class FakeStore implements StoreInterface
{
    /**
     * @param int $id
     * @param string $code
     */
    public function __construct(private int $id, private string $code)
    {
    }

    /**
     * @inheritDoc
     */
    public function getId()
    {
        return $this->id;
    }

    /**
     * @inheritDoc
     */
    public function getCode()
    {
        return $this->code;
    }
}
