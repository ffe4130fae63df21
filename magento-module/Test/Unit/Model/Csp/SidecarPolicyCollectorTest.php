<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\Model\Csp;

use Magento\Csp\Model\Policy\FetchPolicy;
use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\Csp\SidecarPolicyCollector;
use Provenant\Disclosure\Model\Url;
use Provenant\Disclosure\Test\Unit\FakeScopeConfig;
use Provenant\Disclosure\Test\Unit\FakeStore;
use Provenant\Disclosure\Test\Unit\FakeStoreManager;

class SidecarPolicyCollectorTest extends TestCase
{
    private function collect(array $config, bool $withStore = true): array
    {
        $collector = new SidecarPolicyCollector(
            new Config(new FakeScopeConfig($config), new Url()),
            new FakeStoreManager($withStore ? new FakeStore(1, 'default') : null),
            new Url()
        );
        return $collector->collect([new FetchPolicy('img-src', false, ['https://img.example'])]);
    }

    public function testItAddsTheSidecarOriginToConnectSrc(): void
    {
        $policies = $this->collect([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'https://Provenant.example.com:8443/base/',
        ]);
        self::assertCount(2, $policies);
        self::assertSame('img-src', $policies[0]->getId());
        self::assertSame('connect-src', $policies[1]->getId());
        self::assertSame(['https://provenant.example.com:8443'], $policies[1]->getHostSources());
        self::assertFalse($policies[1]->isNoneAllowed());
    }

    public function testItAddsTheManifestHostWhenManifestsAreOn(): void
    {
        $policies = $this->collect([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com',
            Config::XML_PATH_USE_MANIFESTS => '1',
            Config::XML_PATH_MANIFEST_URL => 'https://cdn.example.com/provenant',
        ]);
        self::assertSame(
            ['https://provenant.example.com', 'https://cdn.example.com'],
            $policies[1]->getHostSources()
        );
    }

    public function testItAddsNothingWhenDisabledOrMisconfigured(): void
    {
        self::assertCount(1, $this->collect([Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com']));
        self::assertCount(1, $this->collect([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'data:text/html,x',
        ]));
        self::assertCount(1, $this->collect([
            Config::XML_PATH_ENABLED => '1',
            Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com',
        ], false));
    }
}
