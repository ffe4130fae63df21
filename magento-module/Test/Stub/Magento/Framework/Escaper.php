<?php
declare(strict_types=1);

namespace Magento\Framework;

/**
 * Stub of Magento's escaper, for the unit tests. escapeHtmlAttr() encodes as Laminas\Escaper (which
 * Magento's delegates to) does: everything but ASCII letters, digits and ",.-_" becomes a character
 * reference, named for " & < >.
 */
class Escaper
{
    private const NAMED = ['"' => '&quot;', '&' => '&amp;', '<' => '&lt;', '>' => '&gt;'];

    /**
     * The string encoded for an HTML attribute value.
     *
     * @param string $string
     * @param bool $escapingQuotes
     * @return string
     */
    public function escapeHtmlAttr($string, $escapingQuotes = true)
    {
        $string = (string) $string;
        if (!mb_check_encoding($string, 'UTF-8')) {
            throw new \InvalidArgumentException('String to be escaped was not valid UTF-8');
        }
        return preg_replace_callback('/[^a-z0-9,\.\-_]/iSu', [$this, 'reference'], $string);
    }

    /**
     * The character reference for one character.
     *
     * @param string[] $match
     * @return string
     */
    private function reference(array $match): string
    {
        $character = $match[0];
        if (isset(self::NAMED[$character])) {
            return self::NAMED[$character];
        }
        return sprintf(mb_ord($character, 'UTF-8') > 255 ? '&#x%04X;' : '&#x%02X;', mb_ord($character, 'UTF-8'));
    }
}
