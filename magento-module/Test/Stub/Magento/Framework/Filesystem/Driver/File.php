<?php
declare(strict_types=1);

namespace Magento\Framework\Filesystem\Driver;

use Magento\Framework\Exception\FileSystemException;

// phpcs:disable Magento2.Functions.DiscouragedFunction -- this stub is the local file driver itself

/**
 * Stub of Magento's local file driver (the methods the module uses), on the real file system.
 */
class File
{
    /**
     * Whether a file exists.
     *
     * @param string $path
     * @return bool
     */
    public function isExists($path)
    {
        return file_exists($path);
    }

    /**
     * A file's contents.
     *
     * @param string $path
     * @return string
     * @throws FileSystemException
     */
    public function fileGetContents($path)
    {
        $contents = is_file($path) && is_readable($path) ? file_get_contents($path) : false;
        if ($contents === false) {
            throw new FileSystemException('The contents from the "' . $path . '" file can\'t be read.');
        }
        return $contents;
    }

    /**
     * Write a file.
     *
     * @param string $path
     * @param string $content
     * @return int
     * @throws FileSystemException
     */
    public function filePutContents($path, $content)
    {
        $written = is_writable(dirname($path)) ? file_put_contents($path, $content) : false;
        if ($written === false) {
            throw new FileSystemException('The specified "' . $path . '" file couldn\'t be written.');
        }
        return $written;
    }

    /**
     * Rename a file.
     *
     * @param string $oldPath
     * @param string $newPath
     * @return bool
     * @throws FileSystemException
     */
    public function rename($oldPath, $newPath)
    {
        if (!is_file($oldPath) || !rename($oldPath, $newPath)) {
            throw new FileSystemException('The path "' . $oldPath . '" cannot be renamed.');
        }
        return true;
    }

    /**
     * Delete a file.
     *
     * @param string $path
     * @return bool
     * @throws FileSystemException
     */
    public function deleteFile($path)
    {
        if (!is_file($path) || !unlink($path)) {
            throw new FileSystemException('The "' . $path . '" file can\'t be deleted.');
        }
        return true;
    }
}
