<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

use Magento\Framework\App\Config\ScopeConfigInterface;

/**
 * In-memory store configuration: path => value for every scope.
 */
class FakeScopeConfig implements ScopeConfigInterface
{
    /**
     * @param array<string, mixed> $values
     */
    public function __construct(private array $values)
    {
    }

    /**
     * @inheritDoc
     */
    public function getValue($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return $this->values[$path] ?? null;
    }

    /**
     * @inheritDoc
     */
    public function isSetFlag($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return (bool) ($this->values[$path] ?? false);
    }
}
