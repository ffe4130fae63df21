<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model\Xmp;

use Magento\Framework\Exception\FileSystemException;
use Magento\Framework\Filesystem\Driver\File;

/**
 * Rewrites a resized image file with the IPTC DigitalSourceType XMP embedded: written to a
 * temporary file next to it and renamed over it, so a reader never sees half a file.
 */
class DerivativeMarker
{
    /**
     * @param DigitalSourceTypeXmp $xmp
     * @param File $file
     */
    public function __construct(
        private readonly DigitalSourceTypeXmp $xmp,
        private readonly File $file
    ) {
    }

    /**
     * Embed the source type in the file; false when the file's format or content does not allow it
     * (it is then left as it was).
     *
     * @param string $path absolute path of the derivative
     * @param string $sourceType IPTC digital source type URI
     * @return bool
     * @throws FileSystemException when the file cannot be read or replaced
     */
    public function mark(string $path, string $sourceType): bool
    {
        $marked = $this->xmp->embed($this->file->fileGetContents($path), $sourceType);
        if ($marked === null) {
            return false;
        }
        $temporary = $path . '.provenant-' . bin2hex(random_bytes(6));
        try {
            $this->file->filePutContents($temporary, $marked);
            $this->file->rename($temporary, $path);
        } finally {
            if ($this->file->isExists($temporary)) {
                $this->file->deleteFile($temporary);
            }
        }
        return true;
    }
}
