<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Plugin;

use Magento\Framework\Image;
use Magento\Store\Model\StoreManagerInterface;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\SyntheticImages;
use Provenant\Disclosure\Model\Xmp\DerivativeMarker;
use Psr\Log\LoggerInterface;

/**
 * After Magento saves a resized product image, writes the IPTC DigitalSourceType XMP that its GD2
 * adapter drops back into the file, when the sidecar holds the original image as synthetic.
 *
 * Every catalog derivative goes through Magento\Framework\Image::save(): the storefront's on-demand
 * path (Magento\Catalog\Model\Product\Image::saveFile(), and pub/get.php through
 * Magento\MediaStorage\Service\ImageResize) and bin/magento catalog:images:resize (ImageResize::resize()
 * saving to the Magento\Catalog\Model\View\Asset\Image path). Derivatives live at
 * catalog/product/cache/<hash>/<gallery path>; the gallery path names the original, as the
 * sidecar's registry does. Failures are logged and never break the image.
 */
class KeepDigitalSourceType
{
    private const CACHE_PATH = '#/catalog/product/cache/[^/]+(/(?:[^/]+/)*[^/]+)$#';

    /**
     * @param Config $config
     * @param SyntheticImages $syntheticImages
     * @param DerivativeMarker $marker
     * @param StoreManagerInterface $storeManager
     * @param LoggerInterface $logger
     */
    public function __construct(
        private readonly Config $config,
        private readonly SyntheticImages $syntheticImages,
        private readonly DerivativeMarker $marker,
        private readonly StoreManagerInterface $storeManager,
        private readonly LoggerInterface $logger
    ) {
    }

    /**
     * Mark the saved derivative when its original is synthetic.
     *
     * @param Image $subject
     * @param mixed $result
     * @param string|null $destination
     * @param string|null $newFileName
     * @return mixed
     * @SuppressWarnings(PHPMD.UnusedFormalParameter)
     */
    public function afterSave(Image $subject, $result, $destination = null, $newFileName = null)
    {
        if (!is_string($destination) || $destination === '') {
            return $result;
        }
        $path = is_string($newFileName) && $newFileName !== ''
            ? rtrim($destination, '/') . '/' . $newFileName
            : $destination;
        if (preg_match(self::CACHE_PATH, str_replace('\\', '/', $path), $match) !== 1) {
            return $result;
        }
        try {
            $store = $this->storeManager->getStore();
            $storeId = (int) $store->getId();
            $storeCode = $this->config->getStoreCode((string) $store->getCode(), $storeId);
            $sourceType = $this->syntheticImages->sourceType($match[1], $storeCode, $storeId);
            if ($sourceType !== '' && !$this->marker->mark($path, $sourceType)) {
                $this->logger->info('Provenant: derivative not marked (format or existing XMP)', ['path' => $path]);
            }
        } catch (\Throwable $e) {
            $this->logger->warning(
                'Provenant: could not mark a resized product image: ' . $e->getMessage(),
                ['path' => $path]
            );
        }
        return $result;
    }
}
