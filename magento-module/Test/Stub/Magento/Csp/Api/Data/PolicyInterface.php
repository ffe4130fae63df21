<?php
declare(strict_types=1);

namespace Magento\Csp\Api\Data;

/**
 * Stub of Magento's Content Security Policy directive, for the unit tests.
 */
interface PolicyInterface
{
    /**
     * The directive's name.
     *
     * @return string
     */
    public function getId(): string;

    /**
     * The directive's value.
     *
     * @return string
     */
    public function getValue(): string;
}
