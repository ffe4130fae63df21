<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model;

use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Store\Model\ScopeInterface;

/**
 * The module's settings (Stores > Configuration > Catalog > AI Content Disclosure), per store view.
 */
class Config
{
    public const XML_PATH_ENABLED = 'provenant_disclosure/general/enabled';
    public const XML_PATH_SIDECAR_URL = 'provenant_disclosure/general/sidecar_url';
    public const XML_PATH_STORE_CODE = 'provenant_disclosure/general/store_code';
    public const XML_PATH_USE_MANIFESTS = 'provenant_disclosure/general/use_manifests';
    public const XML_PATH_MANIFEST_URL = 'provenant_disclosure/general/manifest_url';
    public const XML_PATH_TIMEOUT_MS = 'provenant_disclosure/general/timeout_ms';
    public const DEFAULT_TIMEOUT_MS = 3000;

    /**
     * @param ScopeConfigInterface $scopeConfig
     * @param Url $url
     */
    public function __construct(
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly Url $url
    ) {
    }

    /**
     * Enabled and pointed at a usable sidecar URL (or manifest URL).
     *
     * @param int|null $storeId
     * @return bool
     */
    public function isEnabled(?int $storeId = null): bool
    {
        if (!$this->scopeConfig->isSetFlag(self::XML_PATH_ENABLED, ScopeInterface::SCOPE_STORE, $storeId)) {
            return false;
        }
        return $this->getSidecarUrl($storeId) !== '' || $this->getManifestUrl($storeId) !== '';
    }

    /**
     * The sidecar's base URL, or '' when it is not a usable http(s) URL.
     *
     * @param int|null $storeId
     * @return string
     */
    public function getSidecarUrl(?int $storeId = null): string
    {
        return $this->url->normalise($this->value(self::XML_PATH_SIDECAR_URL, $storeId));
    }

    /**
     * The manifest base URL when manifests are switched on, else ''.
     *
     * @param int|null $storeId
     * @return string
     */
    public function getManifestUrl(?int $storeId = null): string
    {
        if (!$this->scopeConfig->isSetFlag(self::XML_PATH_USE_MANIFESTS, ScopeInterface::SCOPE_STORE, $storeId)) {
            return '';
        }
        return $this->url->normalise($this->value(self::XML_PATH_MANIFEST_URL, $storeId));
    }

    /**
     * The sidecar's code for the store view: the configured mapping, else Magento's own code.
     *
     * @param string $magentoStoreCode
     * @param int|null $storeId
     * @return string
     */
    public function getStoreCode(string $magentoStoreCode, ?int $storeId = null): string
    {
        $mapped = trim($this->value(self::XML_PATH_STORE_CODE, $storeId));
        $code = $mapped !== '' ? $mapped : $magentoStoreCode;
        return preg_match('/^[A-Za-z0-9_]{1,32}$/', $code) === 1 ? $code : '';
    }

    /**
     * How long the script waits for the sidecar: 200 to 10000 ms, the default when unset or not a number.
     *
     * @param int|null $storeId
     * @return int
     */
    public function getTimeoutMs(?int $storeId = null): int
    {
        $raw = trim($this->value(self::XML_PATH_TIMEOUT_MS, $storeId));
        if ($raw === '' || !ctype_digit($raw)) {
            return self::DEFAULT_TIMEOUT_MS;
        }
        return max(200, min(10000, (int) $raw));
    }

    /**
     * A store view's setting as a string ('' when unset or not scalar).
     *
     * @param string $path
     * @param int|null $storeId
     * @return string
     */
    private function value(string $path, ?int $storeId): string
    {
        $value = $this->scopeConfig->getValue($path, ScopeInterface::SCOPE_STORE, $storeId);
        return is_scalar($value) ? (string) $value : '';
    }
}
