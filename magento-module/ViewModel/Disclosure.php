<?php
declare(strict_types=1);

namespace Provenant\Disclosure\ViewModel;

use Magento\Cms\Model\Page;
use Magento\Framework\Registry;
use Magento\Framework\View\Element\Block\ArgumentInterface;
use Magento\Store\Model\StoreManagerInterface;
use Provenant\Disclosure\Model\Config;

/**
 * The storefront script's config for the current page, for the template to put in an escaped
 * data attribute: {"apiBase", "store", "products", "blocks", "pages", "timeout"[, "manifestBase"]}.
 */
class Disclosure implements ArgumentInterface
{
    public const COMPONENT = 'Provenant_Disclosure/js/disclosure';
    public const HOLDER_SELECTOR = '[data-provenant-disclosure]';
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_HEX_TAG | JSON_HEX_AMP
        | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_THROW_ON_ERROR;

    /**
     * @param Config $config
     * @param StoreManagerInterface $storeManager
     * @param Registry $registry
     * @param Page $cmsPage
     */
    public function __construct(
        private readonly Config $config,
        private readonly StoreManagerInterface $storeManager,
        private readonly Registry $registry,
        private readonly Page $cmsPage
    ) {
    }

    /**
     * Whether the current store view shows badges: the module is on and the store code is usable.
     *
     * @return bool
     */
    public function isEnabled(): bool
    {
        try {
            $store = $this->storeManager->getStore();
        } catch (\Throwable $e) {
            return false;
        }
        return $this->config->isEnabled((int) $store->getId())
            && $this->config->getStoreCode((string) $store->getCode(), (int) $store->getId()) !== '';
    }

    /**
     * The script's config for the current page.
     *
     * @return array<string, mixed>
     */
    public function getConfig(): array
    {
        $store = $this->storeManager->getStore();
        $storeId = (int) $store->getId();
        $config = [
            'apiBase' => $this->config->getSidecarUrl($storeId),
            'store' => $this->config->getStoreCode((string) $store->getCode(), $storeId),
            'products' => $this->productSkus(),
            'blocks' => [],
            'pages' => $this->pageIdentifiers(),
            'timeout' => $this->config->getTimeoutMs($storeId),
        ];
        $manifestBase = $this->config->getManifestUrl($storeId);
        if ($manifestBase !== '') {
            $config['manifestBase'] = $manifestBase;
        }
        return $config;
    }

    /**
     * JSON for the data-provenant-config attribute; the template escapes it once more for HTML.
     *
     * @return string
     */
    public function getConfigJson(): string
    {
        return json_encode($this->getConfig(), self::JSON_FLAGS);
    }

    /**
     * The text/x-magento-init declaration (Luma): a constant, no shop data in it.
     *
     * @return string
     */
    public function getInitJson(): string
    {
        return json_encode([self::HOLDER_SELECTOR => [self::COMPONENT => new \stdClass()]], self::JSON_FLAGS);
    }

    /**
     * The current product's SKU, if this is a product page.
     *
     * @return string[]
     */
    private function productSkus(): array
    {
        $product = $this->registry->registry('current_product');
        if (!is_object($product) || !method_exists($product, 'getSku')) {
            return [];
        }
        $sku = trim((string) $product->getSku());
        return $sku === '' ? [] : [$sku];
    }

    /**
     * The current CMS page's identifier, if this is a CMS page.
     *
     * @return string[]
     */
    private function pageIdentifiers(): array
    {
        if (!$this->cmsPage->getId()) {
            return [];
        }
        $identifier = trim((string) $this->cmsPage->getIdentifier());
        return $identifier === '' ? [] : [$identifier];
    }
}
