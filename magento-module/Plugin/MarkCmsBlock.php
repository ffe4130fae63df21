<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Plugin;

use Magento\Framework\View\Element\AbstractBlock;
use Magento\Store\Model\StoreManagerInterface;
use Provenant\Disclosure\Model\Config;

/**
 * Wraps a rendered CMS block in an element carrying its id, so the script can badge or hide it.
 */
class MarkCmsBlock
{
    public function __construct(
        private readonly Config $config,
        private readonly StoreManagerInterface $storeManager
    ) {
    }

    /**
     * @param AbstractBlock $subject
     * @param mixed $result
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
        if ($id === '' || strlen($id) > 255) {
            return $html;
        }
        $attribute = htmlspecialchars($id, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
        return '<div class="provenant-cms-block" data-provenant-block="' . $attribute . '">' . $html . '</div>';
    }
}
