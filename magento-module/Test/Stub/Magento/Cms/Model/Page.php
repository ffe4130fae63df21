<?php
declare(strict_types=1);

namespace Magento\Cms\Model;

/**
 * Stub of Magento's current CMS page, for the unit tests.
 */
class Page
{
    /**
     * @param int|null $id
     * @param string $identifier
     */
    public function __construct(private ?int $id = null, private string $identifier = '')
    {
    }

    /**
     * The page's id, null when no page is loaded.
     *
     * @return int|null
     */
    public function getId()
    {
        return $this->id;
    }

    /**
     * The page's URL key.
     *
     * @return string
     */
    public function getIdentifier()
    {
        return $this->identifier;
    }
}
