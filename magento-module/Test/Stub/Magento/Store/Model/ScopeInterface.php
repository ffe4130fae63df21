<?php
declare(strict_types=1);

namespace Magento\Store\Model;

/**
 * Stub of Magento's store scope names, for the unit tests.
 */
interface ScopeInterface
{
    public const SCOPE_STORE = 'store';
}
