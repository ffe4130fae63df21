<?php
declare(strict_types=1);

namespace Magento\Csp\Api;

/**
 * Stub of Magento's Content Security Policy collector, for the unit tests.
 */
interface PolicyCollectorInterface
{
    /**
     * The policies given plus the collector's own.
     *
     * @param \Magento\Csp\Api\Data\PolicyInterface[] $defaultPolicies
     * @return \Magento\Csp\Api\Data\PolicyInterface[]
     */
    public function collect(array $defaultPolicies = []): array;
}
