<?php
declare(strict_types=1);

namespace Magento\Framework\App\Config;

/**
 * Stub of Magento's store configuration reader, for the unit tests.
 */
interface ScopeConfigInterface
{
    public const SCOPE_TYPE_DEFAULT = 'default';

    /**
     * A configuration value.
     *
     * @param string $path
     * @param string $scopeType
     * @param null|int|string $scopeCode
     * @return mixed
     */
    public function getValue($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null);

    /**
     * A configuration flag.
     *
     * @param string $path
     * @param string $scopeType
     * @param null|int|string $scopeCode
     * @return bool
     */
    public function isSetFlag($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null);
}
