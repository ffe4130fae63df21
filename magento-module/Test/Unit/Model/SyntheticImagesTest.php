<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\Model;

use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\SyntheticImages;
use Provenant\Disclosure\Model\Url;
use Provenant\Disclosure\Test\Unit\FakeCache;
use Provenant\Disclosure\Test\Unit\FakeHttpClient;
use Provenant\Disclosure\Test\Unit\FakeLogger;
use Provenant\Disclosure\Test\Unit\FakeScopeConfig;

class SyntheticImagesTest extends TestCase
{
    private const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
    private const API = 'https://provenant.example.com/api/v1/disclosures/default/images';

    /**
     * @var FakeCache
     */
    private FakeCache $cache;

    /**
     * @var FakeLogger
     */
    private FakeLogger $logger;

    protected function setUp(): void
    {
        $this->cache = new FakeCache();
        $this->logger = new FakeLogger();
    }

    /**
     * @param FakeHttpClient $client
     * @param array<string, string> $settings
     * @return SyntheticImages
     */
    private function images(FakeHttpClient $client, array $settings = []): SyntheticImages
    {
        $settings += [
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com/',
            Config::XML_PATH_TIMEOUT_MS => '3000',
        ];
        $config = new Config(new FakeScopeConfig($settings), new Url());
        return new SyntheticImages($config, $client, $this->cache, $this->logger);
    }

    private function list(array $images): string
    {
        return (string) json_encode(['store' => 'default', 'images' => $images]);
    }

    public function testItAsksTheApiOnceWithAShortTimeoutAndCachesTheAnswer(): void
    {
        $client = new FakeHttpClient([self::API => [200, $this->list(['/a/i/ai.jpg' => self::TRAINED])]]);
        $images = $this->images($client);
        self::assertSame(self::TRAINED, $images->sourceType('/a/i/ai.jpg', 'default'));
        self::assertSame('', $images->sourceType('/p/h/photo.jpg', 'default'));
        self::assertSame([self::API], $client->requests);
        self::assertSame([2], $client->timeouts, 'at most two seconds, whatever the badge timeout');

        $again = $this->images($client);
        self::assertSame(self::TRAINED, $again->sourceType('/a/i/ai.jpg', 'default'));
        self::assertSame([self::API], $client->requests, 'the second process reads the Magento cache');
        self::assertSame(SyntheticImages::CACHE_SECONDS, array_values($this->cache->entries)[0][1]);
    }

    public function testPublishedManifestsAreFollowedToTheirImagesList(): void
    {
        $version = str_repeat('ab', 32);
        $base = 'https://cdn.example.com/provenant/default/';
        $client = new FakeHttpClient([
            $base . 'current.json' => [200, (string) json_encode(['images' => $version . '/images.json'])],
            $base . $version . '/images.json' => [200, $this->list(['/a/i/ai.jpg' => self::TRAINED])],
        ]);
        $images = $this->images($client, [
            Config::XML_PATH_USE_MANIFESTS => '1',
            Config::XML_PATH_MANIFEST_URL => 'https://cdn.example.com/provenant',
        ]);
        self::assertSame(self::TRAINED, $images->sourceType('/a/i/ai.jpg', 'default'));
    }

    public function testAPointerToAnotherPlaceIsRefused(): void
    {
        $client = new FakeHttpClient([
            'https://cdn.example.com/p/default/current.json' => [200, '{"images": "../../elsewhere.json"}'],
        ]);
        $images = $this->images($client, [
            Config::XML_PATH_USE_MANIFESTS => '1',
            Config::XML_PATH_MANIFEST_URL => 'https://cdn.example.com/p',
        ]);
        self::assertSame('', $images->sourceType('/a/i/ai.jpg', 'default'));
        self::assertCount(1, $client->requests);
    }

    public function testAnUnreachableSidecarLeavesImagesUnmarkedLogsAndIsAskedAgainAfterAMinute(): void
    {
        $client = new FakeHttpClient([]);
        self::assertSame('', $this->images($client)->sourceType('/a/i/ai.jpg', 'default'));
        self::assertStringContainsString('Connection refused', $this->logger->messages[0]);
        self::assertSame(SyntheticImages::FAILURE_CACHE_SECONDS, array_values($this->cache->entries)[0][1]);
        self::assertSame('', $this->images($client)->sourceType('/b/i/b.jpg', 'default'));
        self::assertCount(1, $client->requests, 'the failure is cached, not retried on every image');
    }

    public function testErrorsAndJunkAnswersAreFailuresAndJunkEntriesAreDropped(): void
    {
        $client = new FakeHttpClient([self::API => [500, '{"error": {}}']]);
        self::assertSame('', $this->images($client)->sourceType('/a/i/ai.jpg', 'default'));
        self::assertStringContainsString('HTTP 500', $this->logger->messages[0]);

        $this->cache = new FakeCache();
        $junk = ['/a/i/ai.jpg' => 'javascript:alert(1)', 'x.jpg' => self::TRAINED, '/ok.jpg' => self::TRAINED];
        $client = new FakeHttpClient([self::API => [200, $this->list($junk)]]);
        $images = $this->images($client);
        self::assertSame('', $images->sourceType('/a/i/ai.jpg', 'default'));
        self::assertSame('', $images->sourceType('x.jpg', 'default'));
        self::assertSame(self::TRAINED, $images->sourceType('/ok.jpg', 'default'));
    }

    public function testADisabledModuleAsksNothing(): void
    {
        $client = new FakeHttpClient([]);
        $images = $this->images($client, [Config::XML_PATH_ENABLED => '0']);
        self::assertSame('', $images->sourceType('/a/i/ai.jpg', 'default'));
        self::assertSame('', $this->images($client)->sourceType('/a/i/ai.jpg', ''));
        self::assertSame([], $client->requests);
    }
}
