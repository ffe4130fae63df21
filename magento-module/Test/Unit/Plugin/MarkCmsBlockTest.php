<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Test\Unit\Plugin;

use Magento\Framework\Escaper;
use Magento\Framework\View\Element\AbstractBlock;
use PHPUnit\Framework\TestCase;
use Provenant\Disclosure\Model\Config;
use Provenant\Disclosure\Model\Url;
use Provenant\Disclosure\Plugin\MarkCmsBlock;
use Provenant\Disclosure\Test\Unit\FakeScopeConfig;
use Provenant\Disclosure\Test\Unit\FakeStore;
use Provenant\Disclosure\Test\Unit\FakeStoreManager;

class MarkCmsBlockTest extends TestCase
{
    private function block(string $id): AbstractBlock
    {
        return new class ($id) extends AbstractBlock {
            public function __construct(string $id)
            {
                $this->data = ['block_id' => $id];
            }
        };
    }

    private function plugin(bool $enabled): MarkCmsBlock
    {
        $config = $enabled
            ? [Config::XML_PATH_ENABLED => '1', Config::XML_PATH_SIDECAR_URL => 'https://provenant.example.com']
            : [];
        return new MarkCmsBlock(
            new Config(new FakeScopeConfig($config), new Url()),
            new FakeStoreManager(new FakeStore(1, 'x')),
            new Escaper()
        );
    }

    public function testItWrapsTheBlockWithItsEscapedIdentifier(): void
    {
        $html = $this->plugin(true)->afterToHtml($this->block('a"><script>'), '<p>Hi</p>');
        self::assertSame(
            '<div class="provenant-cms-block" data-provenant-block="a&quot;&gt;&lt;script&gt;"><p>Hi</p></div>',
            $html
        );
    }

    public function testItLeavesABlockWhoseIdentifierIsNotUtf8Unmarked(): void
    {
        self::assertSame('<p>Hi</p>', $this->plugin(true)->afterToHtml($this->block("a\xff"), '<p>Hi</p>'));
    }

    public function testItLeavesEmptyOutputAndDisabledStoresAlone(): void
    {
        self::assertSame('', $this->plugin(true)->afterToHtml($this->block('x'), ''));
        self::assertSame('<p>Hi</p>', $this->plugin(false)->afterToHtml($this->block('x'), '<p>Hi</p>'));
    }
}
