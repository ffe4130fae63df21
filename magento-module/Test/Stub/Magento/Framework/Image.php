<?php
declare(strict_types=1);

namespace Magento\Framework;

/**
 * Stub of Magento's image (the GD2 adapter's front), for the unit tests: save() writes nothing.
 */
class Image
{
    /**
     * Save the image (a no-op here: the tests write the file with GD themselves).
     *
     * @param string|null $destination
     * @param string|null $newFileName
     * @return void
     */
    public function save($destination = null, $newFileName = null)
    {
    }
}
