<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Plugin;

use Magento\Framework\Escaper;
use Magento\Framework\View\Element\AbstractBlock;
use Magento\Store\Model\StoreManagerInterface;
use Provenant\Disclosure\Model\Config;

/**
 * Wraps a rendered CMS block in an element carrying its id, so the script can badge or hide it.
 */
class MarkCmsBlock
{
    /**
     * @param Config $config
     * @param StoreManagerInterface $storeManager
     * @param Escaper $escaper
     */
    public function __construct(
        private readonly Config $config,
        private readonly StoreManagerInterface $storeManager,
        private readonly Escaper $escaper
    ) {
    }

    /**
     * The block's HTML wrapped in an element carrying its id, or unchanged when the module is off.
     *
     * @param AbstractBlock $subject
     * @param mixed $result
     * @return string
     */
    public function afterToHtml($subject, $result): string
    {
        $html = is_string($result) ? $result : '';
        if (trim($html) === '') {
            return $html;
        }
        try {
            if (!$this->config->isEnabled((int) $this->storeManager->getStore()->getId())) {
                return $html;
            }
        } catch (\Throwable $e) {
            return $html;
        }
        $id = trim((string) $subject->getData('block_id'));
        // Magento's escaper throws on invalid UTF-8; such an id cannot name a sidecar block anyway.
        if ($id === '' || strlen($id) > 255 || !mb_check_encoding($id, 'UTF-8')) {
            return $html;
        }
        $attribute = $this->escaper->escapeHtmlAttr($id);
        return '<div class="provenant-cms-block" data-provenant-block="' . $attribute . '">' . $html . '</div>';
    }
}
