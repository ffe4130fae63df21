<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model;

/**
 * URL helpers without Magento dependencies.
 */
final class Url
{
    /** An http(s) URL without trailing slash, or '' for anything else (javascript:, data:, junk). */
    public static function normalise(string $url): string
    {
        $url = trim($url);
        if ($url === '' || preg_match('/[\s<>"\'`]/', $url) === 1) {
            return '';
        }
        $parts = parse_url($url);
        if (!is_array($parts) || !isset($parts['scheme'], $parts['host'])) {
            return '';
        }
        $scheme = strtolower($parts['scheme']);
        if (($scheme !== 'https' && $scheme !== 'http') || isset($parts['user']) || isset($parts['pass'])) {
            return '';
        }
        return rtrim($url, '/');
    }

    /** The origin (scheme://host[:port]) of an http(s) URL, or null. */
    public static function origin(string $url): ?string
    {
        $url = self::normalise($url);
        if ($url === '') {
            return null;
        }
        $parts = parse_url($url);
        $origin = strtolower($parts['scheme']) . '://' . strtolower($parts['host']);
        return isset($parts['port']) ? $origin . ':' . $parts['port'] : $origin;
    }
}
