<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Store\Api\Data\StoreInterface;
use Magento\Store\Model\StoreManagerInterface;

/** In-memory store configuration: path => value for every scope. */
final class FakeScopeConfig implements ScopeConfigInterface
{
    public function __construct(private array $values)
    {
    }

    public function getValue($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return $this->values[$path] ?? null;
    }

    public function isSetFlag($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return (bool) ($this->values[$path] ?? false);
    }
}

final class FakeStore implements StoreInterface
{
    public function __construct(private int $id, private string $code)
    {
    }

    public function getId()
    {
        return $this->id;
    }

    public function getCode()
    {
        return $this->code;
    }
}

final class FakeStoreManager implements StoreManagerInterface
{
    public function __construct(private ?StoreInterface $store)
    {
    }

    public function getStore($storeId = null)
    {
        if ($this->store === null) {
            throw new \RuntimeException('no store');
        }
        return $this->store;
    }
}

final class FakeProduct
{
    public function __construct(private string $sku)
    {
    }

    public function getSku(): string
    {
        return $this->sku;
    }
}
