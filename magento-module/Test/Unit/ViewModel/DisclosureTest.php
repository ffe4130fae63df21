<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\ViewModel;

use Magento\Cms\Model\Page;
use Magento\Framework\Registry;
use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\Url;
use Provenant\Disclosure\Test\Unit\FakeProduct;
use Provenant\Disclosure\Test\Unit\FakeScopeConfig;
use Provenant\Disclosure\Test\Unit\FakeStore;
use Provenant\Disclosure\Test\Unit\FakeStoreManager;
use Provenant\Disclosure\ViewModel\Disclosure;

class DisclosureTest extends TestCase
{
    private const ENABLED = [
        Config::XML_PATH_ENABLED => '1',
        Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com/',
    ];

    private function viewModel(
        array $config,
        ?Registry $registry = null,
        ?Page $page = null,
        string $code = 'default'
    ): Disclosure {
        return new Disclosure(
            new Config(new FakeScopeConfig($config), new Url()),
            new FakeStoreManager(new FakeStore(1, $code)),
            $registry ?? new Registry(),
            $page ?? new Page()
        );
    }

    public function testItPassesTheProductSkuAndTheSidecarUrl(): void
    {
        $registry = new Registry();
        $registry->register('current_product', new FakeProduct('MED-1'));
        $config = $this->viewModel(self::ENABLED, $registry)->getConfig();
        self::assertSame('https://provenant.example.com', $config['apiBase']);
        self::assertSame('default', $config['store']);
        self::assertSame(['MED-1'], $config['products']);
        self::assertSame([], $config['pages']);
        self::assertSame(3000, $config['timeout']);
        self::assertArrayNotHasKey('manifestBase', $config);
    }

    public function testItPassesTheCmsPageIdentifier(): void
    {
        $config = $this->viewModel(self::ENABLED, null, new Page(7, 'diabetes-guide'))->getConfig();
        self::assertSame(['diabetes-guide'], $config['pages']);
        self::assertSame([], $config['products']);
    }

    public function testTheStoreCodeMappingWinsOverMagentosCode(): void
    {
        $config = $this->viewModel(self::ENABLED + [Config::XML_PATH_STORE_CODE => 'de'], null, null, 'german')
            ->getConfig();
        self::assertSame('de', $config['store']);
    }

    public function testItIsDisabledWithoutAUsableSidecarUrl(): void
    {
        self::assertFalse($this->viewModel([Config::XML_PATH_ENABLED => '1'])->isEnabled());
        self::assertFalse($this->viewModel([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'javascript:alert(1)',
        ])->isEnabled());
        self::assertFalse($this->viewModel([Config::XML_PATH_SIDECAR_URL => 'https://a.example'])->isEnabled());
        self::assertTrue($this->viewModel(self::ENABLED)->isEnabled());
    }

    public function testAHostileSkuIsEncodedSoTheAttributeCannotBeBrokenOut(): void
    {
        $registry = new Registry();
        $registry->register('current_product', new FakeProduct('"><script>alert(1)</script>\'&'));
        $json = $this->viewModel(self::ENABLED, $registry)->getConfigJson();
        self::assertStringNotContainsString('<', $json);
        self::assertStringNotContainsString('"><', $json);
        self::assertStringNotContainsString("'", $json);
        self::assertSame('"><script>alert(1)</script>\'&', json_decode($json, true)['products'][0]);
    }

    public function testManifestsArePassedWhenSwitchedOn(): void
    {
        $config = $this->viewModel(self::ENABLED + [
            Config::XML_PATH_USE_MANIFESTS => '1',
            Config::XML_PATH_MANIFEST_URL => 'https://cdn.example.com/provenant/',
            Config::XML_PATH_TIMEOUT_MS => '99999',
        ])->getConfig();
        self::assertSame('https://cdn.example.com/provenant', $config['manifestBase']);
        self::assertSame(10000, $config['timeout']);
    }

    public function testTheInitDeclarationNamesTheAmdModule(): void
    {
        $init = json_decode($this->viewModel(self::ENABLED)->getInitJson(), true);
        self::assertSame(['[data-provenant-disclosure]' => ['Provenant_Disclosure/js/disclosure' => []]], $init);
    }
}
