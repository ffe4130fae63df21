<?php
/**
 * PHPUnit bootstrap without Magento: declares the few Magento types the tested classes use, with
 * the same names and signatures, and autoloads the module's own classes.
 */
declare(strict_types=1);

namespace Magento\Framework\App\Config {
    interface ScopeConfigInterface
    {
        public const SCOPE_TYPE_DEFAULT = 'default';

        public function getValue($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null);

        public function isSetFlag($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null);
    }
}

namespace Magento\Store\Model {
    class ScopeInterface
    {
        public const SCOPE_STORE = 'store';
    }

    interface StoreManagerInterface
    {
        public function getStore($storeId = null);
    }
}

namespace Magento\Store\Api\Data {
    interface StoreInterface
    {
        public function getId();

        public function getCode();
    }
}

namespace Magento\Framework\View\Element\Block {
    interface ArgumentInterface
    {
    }
}

namespace Magento\Framework {
    class Registry
    {
        private array $data = [];

        public function registry($key)
        {
            return $this->data[$key] ?? null;
        }

        public function register($key, $value, $graceful = false): void
        {
            $this->data[$key] = $value;
        }
    }
}

namespace Magento\Cms\Model {
    class Page
    {
        public function __construct(private $id = null, private string $identifier = '')
        {
        }

        public function getId()
        {
            return $this->id;
        }

        public function getIdentifier()
        {
            return $this->identifier;
        }
    }
}

namespace Magento\Csp\Api\Data {
    interface PolicyInterface
    {
        public function getId(): string;

        public function getValue(): string;
    }
}

namespace Magento\Csp\Api {
    interface PolicyCollectorInterface
    {
        public function collect(array $defaultPolicies = []): array;
    }
}

namespace Magento\Csp\Model\Policy {
    class FetchPolicy implements \Magento\Csp\Api\Data\PolicyInterface
    {
        public function __construct(
            private string $id,
            private bool $noneAllowed = true,
            private array $hostSources = [],
            private array $schemeSources = [],
            private bool $selfAllowed = false,
            private bool $inlineAllowed = false,
            private bool $evalAllowed = false,
            private array $nonceValues = [],
            private array $hashValues = [],
            private bool $dynamicAllowed = false,
            private bool $eventHandlersAllowed = false
        ) {
        }

        public function getId(): string
        {
            return $this->id;
        }

        public function getHostSources(): array
        {
            return $this->hostSources;
        }

        public function isNoneAllowed(): bool
        {
            return $this->noneAllowed;
        }

        public function getValue(): string
        {
            return implode(' ', $this->hostSources);
        }
    }
}

namespace Magento\Framework\View\Element {
    abstract class AbstractBlock
    {
        protected array $data = [];

        public function getData($key = '')
        {
            return $this->data[$key] ?? null;
        }
    }
}

namespace {
    spl_autoload_register(static function (string $class): void {
        $prefix = 'Provenant\\Disclosure\\';
        if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
            return;
        }
        $file = dirname(__DIR__) . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });
}
