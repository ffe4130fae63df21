<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model;

/**
 * The sidecar and manifest URLs the module accepts: absolute http(s) URLs (RFC 3986) with a host,
 * without user info, whitespace or HTML-special characters. No Magento dependencies.
 */
class Url
{
    /**
     * An http(s) URL without trailing slash, or '' for anything else (javascript:, data:, junk).
     *
     * @param string $url
     * @return string
     */
    public function normalise(string $url): string
    {
        $url = trim($url);
        if ($url === '' || preg_match('/[\s<>"\'`]/', $url) === 1 || $this->parts($url) === null) {
            return '';
        }
        return rtrim($url, '/');
    }

    /**
     * The origin (scheme://host[:port]) of an http(s) URL, or null.
     *
     * @param string $url
     * @return string|null
     */
    public function origin(string $url): ?string
    {
        $url = $this->normalise($url);
        $parts = $url === '' ? null : $this->parts($url);
        if ($parts === null) {
            return null;
        }
        $origin = strtolower($parts['scheme']) . '://' . strtolower($parts['host']);
        return isset($parts['port']) ? $origin . ':' . $parts['port'] : $origin;
    }

    /**
     * The components of an http(s) URL with a host and without user info, or null.
     *
     * @param string $url
     * @return array<string, int|string>|null
     */
    private function parts(string $url): ?array
    {
        // Magento ships no URL parser of its own (its Url\Validator and Url\SimpleValidator call parse_url
        // too), and Laminas\Uri, which it depends on, accepts and splits URLs differently.
        // phpcs:ignore Magento2.Functions.DiscouragedFunction -- no Magento alternative, see above
        $parts = parse_url($url);
        if (!is_array($parts) || !isset($parts['scheme'], $parts['host'])) {
            return null;
        }
        $scheme = strtolower($parts['scheme']);
        if (($scheme !== 'https' && $scheme !== 'http') || isset($parts['user']) || isset($parts['pass'])) {
            return null;
        }
        return $parts;
    }
}
