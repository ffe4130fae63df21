<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\Plugin;

// phpcs:disable Magento2.Functions.DiscouragedFunction -- the test reads real image files

use Magento\Framework\Filesystem\Driver\File;
use Magento\Framework\Image;
use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\SyntheticImages;
use Provenant\Disclosure\Model\Url;
use Provenant\Disclosure\Model\Xmp\DerivativeMarker;
use Provenant\Disclosure\Model\Xmp\DigitalSourceTypeXmp;
use Provenant\Disclosure\Plugin\KeepDigitalSourceType;
use Provenant\Disclosure\Test\Unit\FakeCache;
use Provenant\Disclosure\Test\Unit\FakeHttpClient;
use Provenant\Disclosure\Test\Unit\FakeLogger;
use Provenant\Disclosure\Test\Unit\FakeScopeConfig;
use Provenant\Disclosure\Test\Unit\FakeStore;
use Provenant\Disclosure\Test\Unit\FakeStoreManager;
use Provenant\Disclosure\Test\Unit\GdDerivatives;

class KeepDigitalSourceTypeTest extends TestCase
{
    private const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
    private const CACHE = '/pub/media/catalog/product/cache/0f3c1d2e4b5a69788796a5b4c3d2e1f0';

    /**
     * @var string
     */
    private string $root;

    /**
     * @var FakeLogger
     */
    private FakeLogger $logger;

    protected function setUp(): void
    {
        $this->root = GdDerivatives::directory();
        $this->logger = new FakeLogger();
    }

    protected function tearDown(): void
    {
        GdDerivatives::remove($this->root);
    }

    private function plugin(FakeHttpClient $client): KeepDigitalSourceType
    {
        $config = new Config(new FakeScopeConfig([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com',
        ]), new Url());
        return new KeepDigitalSourceType(
            $config,
            new SyntheticImages($config, $client, new FakeCache(), $this->logger),
            new DerivativeMarker(new DigitalSourceTypeXmp(), new File()),
            new FakeStoreManager(new FakeStore(1, 'default')),
            $this->logger
        );
    }

    private function sidecar(): FakeHttpClient
    {
        $images = ['/a/i/ai-pen.jpg' => self::TRAINED, '/a/i/ai.png' => self::TRAINED];
        $list = ['store' => 'default', 'images' => $images];
        return new FakeHttpClient([
            'https://provenant.example.com/api/v1/disclosures/default/images' => [200, (string) json_encode($list)],
        ]);
    }

    public function testAResizedCopyOfASyntheticImageKeepsItsSourceType(): void
    {
        $jpeg = $this->root . self::CACHE . '/a/i/ai-pen.jpg';
        $png = $this->root . self::CACHE . '/a/i/ai.png';
        GdDerivatives::write($jpeg);
        GdDerivatives::write($png);
        $plugin = $this->plugin($this->sidecar());
        self::assertSame('result', $plugin->afterSave(new Image(), 'result', $jpeg));
        $plugin->afterSave(new Image(), null, dirname($png), 'ai.png');
        self::assertSame(self::TRAINED, GdDerivatives::exifToolSourceType($this, $jpeg));
        self::assertSame(self::TRAINED, GdDerivatives::exifToolSourceType($this, $png));
    }

    public function testOtherImagesAndFilesOutsideTheProductCacheAreLeftAlone(): void
    {
        $photo = $this->root . self::CACHE . '/p/h/photo.jpg';
        $original = $this->root . '/pub/media/catalog/product/a/i/ai-pen.jpg';
        GdDerivatives::write($photo);
        GdDerivatives::write($original);
        $before = [file_get_contents($photo), file_get_contents($original)];
        $client = $this->sidecar();
        $plugin = $this->plugin($client);
        $plugin->afterSave(new Image(), null, $photo);
        $plugin->afterSave(new Image(), null, $original);
        $plugin->afterSave(new Image(), null, null);
        self::assertSame($before, [file_get_contents($photo), file_get_contents($original)]);
        self::assertCount(1, $client->requests, 'only the cached derivative asked the sidecar');
    }

    public function testASidecarThatIsDownLeavesTheImageAsGdWroteItAndLogs(): void
    {
        $jpeg = $this->root . self::CACHE . '/a/i/ai-pen.jpg';
        GdDerivatives::write($jpeg);
        $before = file_get_contents($jpeg);
        $this->plugin(new FakeHttpClient([]))->afterSave(new Image(), null, $jpeg);
        self::assertSame($before, file_get_contents($jpeg));
        self::assertStringStartsWith('warning: ', $this->logger->messages[0]);
    }

    public function testAMissingFileIsLoggedNotThrown(): void
    {
        $missing = $this->root . self::CACHE . '/a/i/ai-pen.jpg';
        self::assertSame('ok', $this->plugin($this->sidecar())->afterSave(new Image(), 'ok', $missing));
        self::assertStringContainsString('could not mark', $this->logger->messages[0]);
    }
}
