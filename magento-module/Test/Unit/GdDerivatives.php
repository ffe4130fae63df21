<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit;

// phpcs:disable Magento2.Functions.DiscouragedFunction,Magento2.Security.InsecureFunction
// -- test helper: writes real GD images and runs ExifTool, which Magento has no wrappers for

/**
 * Real derivatives as Magento's GD2 adapter writes them (imagecreatetruecolor + imagecopyresampled,
 * then imagejpeg at Magento's default quality 80, imagepng, imagewebp), and ExifTool to read them.
 */
class GdDerivatives
{
    /**
     * Write a 265 px wide resized copy of a striped 800×600 picture in the format of $path's extension.
     *
     * @param string $path
     * @return void
     */
    public static function write(string $path): void
    {
        $original = imagecreatetruecolor(800, 600);
        for ($x = 0; $x < 800; $x += 16) {
            $colour = imagecolorallocate($original, $x % 256, 120, 255 - $x % 256);
            imagefilledrectangle($original, $x, 0, $x + 7, 599, $colour);
        }
        $resized = imagecreatetruecolor(265, 199);
        imagealphablending($resized, false);
        imagesavealpha($resized, true);
        imagecopyresampled($resized, $original, 0, 0, 0, 0, 265, 199, 800, 600);
        $extension = strtolower(pathinfo($path, PATHINFO_EXTENSION));
        if (!is_dir(dirname($path))) {
            mkdir(dirname($path), 0777, true);
        }
        match ($extension) {
            'jpg', 'jpeg' => imagejpeg($resized, $path, 80),
            'png' => imagepng($resized, $path),
            'webp' => imagewebp($resized, $path, 80),
        };
    }

    /**
     * ExifTool's XMP-iptcExt:DigitalSourceType of a file ('' when absent); the test fails when
     * ExifTool is missing under CI and is skipped, loudly, elsewhere.
     *
     * @param \PHPUnit\Framework\TestCase $test
     * @param string $path
     * @return string
     */
    public static function exifToolSourceType(\PHPUnit\Framework\TestCase $test, string $path): string
    {
        $exiftool = trim((string) shell_exec('command -v exiftool'));
        if ($exiftool === '') {
            if (getenv('CI')) {
                $test::fail('exiftool is not installed (Debian package libimage-exiftool-perl). CI must provide it.');
            }
            $test::markTestSkipped('SKIPPED LOUDLY: exiftool is not installed (libimage-exiftool-perl)');
        }
        $command = escapeshellarg($exiftool) . ' -s3 -XMP-iptcExt:DigitalSourceType ' . escapeshellarg($path);
        return trim((string) shell_exec($command));
    }

    /**
     * A fresh temporary directory.
     *
     * @return string
     */
    public static function directory(): string
    {
        $directory = sys_get_temp_dir() . '/provenant-' . bin2hex(random_bytes(6));
        mkdir($directory, 0777, true);
        return $directory;
    }

    /**
     * Remove a temporary directory and its contents.
     *
     * @param string $directory
     * @return void
     */
    public static function remove(string $directory): void
    {
        $files = new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($directory, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST
        );
        foreach ($files as $file) {
            $file->isDir() ? rmdir($file->getPathname()) : unlink($file->getPathname());
        }
        rmdir($directory);
    }
}
