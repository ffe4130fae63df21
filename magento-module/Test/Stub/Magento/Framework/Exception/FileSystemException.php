<?php
declare(strict_types=1);

namespace Magento\Framework\Exception;

/**
 * Stub of Magento's file system exception, for the unit tests.
 */
class FileSystemException extends \RuntimeException
{
}
