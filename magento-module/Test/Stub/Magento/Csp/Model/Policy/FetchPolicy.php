<?php
declare(strict_types=1);

namespace Magento\Csp\Model\Policy;

use Magento\Csp\Api\Data\PolicyInterface;

/**
 * Stub of Magento's fetch directive (connect-src, img-src, ...), for the unit tests.
 *
 * @SuppressWarnings(PHPMD.ExcessiveParameterList)
 */
class FetchPolicy implements PolicyInterface
{
    /**
     * @param string $id
     * @param bool $noneAllowed
     * @param string[] $hostSources
     * @param string[] $schemeSources
     * @param bool $selfAllowed
     * @param bool $inlineAllowed
     * @param bool $evalAllowed
     * @param string[] $nonceValues
     * @param string[] $hashValues
     * @param bool $dynamicAllowed
     * @param bool $eventHandlersAllowed
     */
    public function __construct(
        private string $id,
        private bool $noneAllowed = true,
        private array $hostSources = [],
        private array $schemeSources = [],
        private bool $selfAllowed = false,
        private bool $inlineAllowed = false,
        private bool $evalAllowed = false,
        private array $nonceValues = [],
        private array $hashValues = [],
        private bool $dynamicAllowed = false,
        private bool $eventHandlersAllowed = false
    ) {
    }

    /**
     * @inheritDoc
     */
    public function getId(): string
    {
        return $this->id;
    }

    /**
     * The allowed hosts.
     *
     * @return string[]
     */
    public function getHostSources(): array
    {
        return $this->hostSources;
    }

    /**
     * Whether the directive is 'none'.
     *
     * @return bool
     */
    public function isNoneAllowed(): bool
    {
        return $this->noneAllowed;
    }

    /**
     * @inheritDoc
     */
    public function getValue(): string
    {
        return implode(' ', $this->hostSources);
    }
}
