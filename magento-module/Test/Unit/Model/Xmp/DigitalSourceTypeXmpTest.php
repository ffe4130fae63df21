<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\Model\Xmp;

// phpcs:disable Magento2.Functions.DiscouragedFunction -- the test reads and writes real image files

use Magento\Framework\Filesystem\Driver\File;
use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Xmp\DerivativeMarker;
use Provenant\Disclosure\Model\Xmp\DigitalSourceTypeXmp;
use Provenant\Disclosure\Test\Unit\GdDerivatives;

class DigitalSourceTypeXmpTest extends TestCase
{
    private const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
    private const COMPOSITE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';

    /**
     * @var string
     */
    private string $directory;

    protected function setUp(): void
    {
        $this->directory = GdDerivatives::directory();
    }

    protected function tearDown(): void
    {
        GdDerivatives::remove($this->directory);
    }

    /**
     * @return array<string, array{0: string}>
     */
    public static function formats(): array
    {
        return ['JPEG' => ['jpg'], 'PNG' => ['png'], 'WebP' => ['webp']];
    }

    /**
     * @dataProvider formats
     */
    public function testAGd2DerivativeCarriesTheSourceTypeExifToolReads(string $extension): void
    {
        $path = $this->directory . '/x.' . $extension;
        GdDerivatives::write($path);
        self::assertSame('', GdDerivatives::exifToolSourceType($this, $path), 'GD output carries no XMP');

        $marker = new DerivativeMarker(new DigitalSourceTypeXmp(), new File());
        self::assertTrue($marker->mark($path, self::COMPOSITE));

        self::assertSame(self::COMPOSITE, GdDerivatives::exifToolSourceType($this, $path));
        $size = getimagesize($path);
        self::assertSame([265, 199], [$size[0], $size[1]], 'the image still decodes at its size');
        self::assertNotFalse(imagecreatefromstring((string) file_get_contents($path)));
        self::assertSame([$path], glob($this->directory . '/*'), 'no temporary file is left behind');
    }

    /**
     * @dataProvider formats
     */
    public function testAFileThatAlreadyCarriesXmpIsLeftAsItIs(string $extension): void
    {
        $path = $this->directory . '/x.' . $extension;
        GdDerivatives::write($path);
        $xmp = new DigitalSourceTypeXmp();
        $once = (string) $xmp->embed((string) file_get_contents($path), self::TRAINED);
        self::assertNull($xmp->embed($once, self::COMPOSITE));
    }

    public function testOtherFormatsAndBrokenFilesAreNotTouched(): void
    {
        $xmp = new DigitalSourceTypeXmp();
        self::assertNull($xmp->embed("GIF89a\x01\x00\x01\x00", self::TRAINED));
        self::assertNull($xmp->embed("\xFF\xD8\xFF\xE0\x7F\xFFJFIF", self::TRAINED), 'segment runs past the end');
        self::assertNull($xmp->embed("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", self::TRAINED));
        self::assertNull($xmp->embed('RIFF' . pack('V', 12) . 'WEBPVP8 ' . pack('V', 99), self::TRAINED));
    }

    public function testOnlyIptcSourceTypeUrisAreWritten(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new DigitalSourceTypeXmp())->packet(self::TRAINED . '</Iptc4xmpExt:DigitalSourceType><x>');
    }
}
