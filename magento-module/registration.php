<?php
/**
 * Provenant_Disclosure: storefront disclosure of AI-generated content (EU AI Act Art. 50).
 */
declare(strict_types=1);

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Provenant_Disclosure', __DIR__);
