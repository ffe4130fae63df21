<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model;

use Magento\Framework\App\CacheInterface;
use Magento\Framework\HTTP\ClientInterface;
use Psr\Log\LoggerInterface;

/**
 * Which product images the sidecar holds as synthetic, with their IPTC digital source type.
 *
 * Read from the sidecar's public API (GET <sidecar>/api/v1/disclosures/<store>/images) or, with
 * published manifests switched on, from <manifest base>/<store>/current.json and the images.json it
 * names. The list is cached (Magento cache, then in memory for the rest of the process, so
 * catalog:images:resize asks once); a sidecar that does not answer within at most two seconds
 * leaves the derivatives unmarked (fail open), is logged, and is asked again after a minute.
 */
class SyntheticImages
{
    public const CACHE_TAG = 'PROVENANT_DISCLOSURE';
    public const CACHE_SECONDS = 300;
    public const FAILURE_CACHE_SECONDS = 60;
    public const MAX_TIMEOUT_MS = 2000;
    private const FAILED = 'failed';

    /**
     * @var array<string, array<string, string>>
     */
    private array $lists = [];

    /**
     * @param Config $config
     * @param ClientInterface $httpClient
     * @param CacheInterface $cache
     * @param LoggerInterface $logger
     */
    public function __construct(
        private readonly Config $config,
        private readonly ClientInterface $httpClient,
        private readonly CacheInterface $cache,
        private readonly LoggerInterface $logger
    ) {
    }

    /**
     * The digital source type URI of a gallery file such as /a/b/x.jpg, or ''.
     *
     * '' when the file is not synthetic, the module is off, or the sidecar cannot say.
     *
     * @param string $file
     * @param string $storeCode the sidecar's store code
     * @param int|null $storeId
     * @return string
     */
    public function sourceType(string $file, string $storeCode, ?int $storeId = null): string
    {
        if ($storeCode === '' || !$this->config->isEnabled($storeId)) {
            return '';
        }
        $url = $this->listUrl($storeCode, $storeId);
        if ($url === '') {
            return '';
        }
        return $this->images($url)[$file] ?? '';
    }

    /**
     * Where the list is read: the manifest pointer, else the API.
     *
     * @param string $storeCode
     * @param int|null $storeId
     * @return string
     */
    private function listUrl(string $storeCode, ?int $storeId): string
    {
        $manifests = $this->config->getManifestUrl($storeId);
        if ($manifests !== '') {
            return $manifests . '/' . $storeCode . '/current.json';
        }
        $sidecar = $this->config->getSidecarUrl($storeId);
        return $sidecar === '' ? '' : $sidecar . '/api/v1/disclosures/' . $storeCode . '/images';
    }

    /**
     * The list behind a URL, from memory, the cache, or the network.
     *
     * @param string $url
     * @return array<string, string>
     */
    private function images(string $url): array
    {
        if (isset($this->lists[$url])) {
            return $this->lists[$url];
        }
        $key = 'provenant_synthetic_images_' . hash('sha256', $url);
        $cached = $this->cache->load($key);
        if (is_string($cached) && $cached !== '') {
            $images = $cached === self::FAILED ? [] : $this->decodeList($cached);
            if ($images !== null) {
                return $this->lists[$url] = $images;
            }
        }
        try {
            $images = $this->fetch($url);
            $this->cache->save(json_encode($images), $key, [self::CACHE_TAG], self::CACHE_SECONDS);
        } catch (\RuntimeException $e) {
            $this->logger->warning(
                'Provenant: resized product images stay without IPTC DigitalSourceType: ' . $e->getMessage(),
                ['url' => $url]
            );
            $images = [];
            $this->cache->save(self::FAILED, $key, [self::CACHE_TAG], self::FAILURE_CACHE_SECONDS);
        }
        return $this->lists[$url] = $images;
    }

    /**
     * The list fetched now; a manifest pointer is followed to its images.json.
     *
     * @param string $url
     * @return array<string, string>
     * @throws \RuntimeException when the sidecar does not answer with a usable list
     */
    private function fetch(string $url): array
    {
        $document = $this->getJson($url);
        if (str_ends_with($url, '/current.json')) {
            $path = $document['images'] ?? null;
            if (!is_string($path) || preg_match('#^[0-9a-f]{64}/images\.json$#', $path) !== 1) {
                throw new \RuntimeException('the manifest pointer names no images list');
            }
            $document = $this->getJson(substr($url, 0, -strlen('current.json')) . $path);
        }
        $images = $this->validList($document['images'] ?? null);
        if ($images === null) {
            throw new \RuntimeException('the answer is not an images list');
        }
        return $images;
    }

    /**
     * A JSON object fetched with a short timeout.
     *
     * @param string $url
     * @return array<string, mixed>
     * @throws \RuntimeException
     */
    private function getJson(string $url): array
    {
        $timeoutMs = min($this->config->getTimeoutMs(), self::MAX_TIMEOUT_MS);
        try {
            $this->httpClient->setTimeout((int) ceil($timeoutMs / 1000));
            $this->httpClient->get($url);
            $status = $this->httpClient->getStatus();
            $body = $this->httpClient->getBody();
        } catch (\Throwable $e) {
            throw new \RuntimeException('the sidecar did not answer: ' . $e->getMessage(), 0, $e);
        }
        if ($status !== 200) {
            throw new \RuntimeException('the sidecar answered HTTP ' . $status);
        }
        $document = json_decode((string) $body, true);
        if (!is_array($document)) {
            throw new \RuntimeException('the sidecar answered no JSON object');
        }
        return $document;
    }

    /**
     * A cached list, or null when the cache holds something else.
     *
     * @param string $json
     * @return array<string, string>|null
     */
    private function decodeList(string $json): ?array
    {
        return $this->validList(json_decode($json, true));
    }

    /**
     * Path => IPTC digital source type URI pairs, or null; entries of any other shape are dropped.
     *
     * @param mixed $images
     * @return array<string, string>|null
     */
    private function validList($images): ?array
    {
        if (!is_array($images)) {
            return null;
        }
        $valid = [];
        foreach ($images as $path => $sourceType) {
            if (is_string($path) && str_starts_with($path, '/') && is_string($sourceType)
                && str_starts_with($sourceType, 'http://cv.iptc.org/newscodes/digitalsourcetype/')
            ) {
                $valid[$path] = $sourceType;
            }
        }
        return $valid;
    }
}
