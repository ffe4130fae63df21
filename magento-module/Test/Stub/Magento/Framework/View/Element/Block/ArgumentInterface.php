<?php
declare(strict_types=1);

namespace Magento\Framework\View\Element\Block;

/**
 * Stub of Magento's view model marker interface, for the unit tests.
 */
interface ArgumentInterface
{
}
