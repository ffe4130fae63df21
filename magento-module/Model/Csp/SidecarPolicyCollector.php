<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model\Csp;

use Magento\Csp\Api\PolicyCollectorInterface;
use Magento\Csp\Model\Policy\FetchPolicy;
use Magento\Store\Model\StoreManagerInterface;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\Url;

/**
 * Allows the storefront script to reach the configured sidecar (and manifest host) under
 * connect-src. Registered in the global etc/di.xml on Magento\Csp\Model\CompositePolicyCollector.
 */
class SidecarPolicyCollector implements PolicyCollectorInterface
{
    /**
     * @param Config $config
     * @param StoreManagerInterface $storeManager
     * @param Url $url
     */
    public function __construct(
        private readonly Config $config,
        private readonly StoreManagerInterface $storeManager,
        private readonly Url $url
    ) {
    }

    /**
     * The policies given, plus connect-src for the sidecar and manifest origins when the module is on.
     *
     * @param \Magento\Csp\Api\Data\PolicyInterface[] $defaultPolicies
     * @return \Magento\Csp\Api\Data\PolicyInterface[]
     */
    public function collect(array $defaultPolicies = []): array
    {
        try {
            $storeId = (int) $this->storeManager->getStore()->getId();
        } catch (\Throwable $e) {
            return $defaultPolicies;
        }
        if (!$this->config->isEnabled($storeId)) {
            return $defaultPolicies;
        }
        $hosts = [];
        foreach ([$this->config->getSidecarUrl($storeId), $this->config->getManifestUrl($storeId)] as $url) {
            $origin = $this->url->origin($url);
            if ($origin !== null) {
                $hosts[$origin] = true;
            }
        }
        if ($hosts) {
            $defaultPolicies[] = new FetchPolicy('connect-src', false, array_keys($hosts));
        }
        return $defaultPolicies;
    }
}
