<?php
declare(strict_types=1);

namespace Provenant\Disclosure\Model\Xmp;

/**
 * Writes the IPTC Photo Metadata term Iptc4xmpExt:DigitalSourceType (IPTC Extension schema, NewsCodes
 * vocabulary http://cv.iptc.org/newscodes/digitalsourcetype/) as an XMP packet (ISO 16684-1) into the
 * bytes of a JPEG, PNG or WebP image, where XMP lives in each format:
 *
 * - JPEG: an APP1 segment headed "http://ns.adobe.com/xap/1.0/\0" after SOI and any JFIF APP0
 *   (XMP Specification Part 3, 1.1.3);
 * - PNG: an iTXt chunk with keyword "XML:com.adobe.xmp", uncompressed, after IHDR (Part 3, 1.1.5);
 * - WebP: an "XMP " chunk in the extended (VP8X) format with the XMP flag set (WebP container spec).
 *
 * Plain PHP without Magento dependencies. Images that already carry XMP are left alone: their
 * marks are kept as they are (Code of Practice Measure 1.2, do not strip existing marks).
 */
class DigitalSourceTypeXmp
{
    public const VOCABULARY = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
    private const JPEG_XMP_HEADER = "http://ns.adobe.com/xap/1.0/\0";
    private const PNG_SIGNATURE = "\x89PNG\r\n\x1a\n";
    private const JPEG_MAX_PAYLOAD = 65533;

    /**
     * Whether a string is an IPTC digital source type URI this writer accepts.
     *
     * @param string $sourceType
     * @return bool
     */
    public function isSourceType(string $sourceType): bool
    {
        $pattern = '#^' . preg_quote(self::VOCABULARY, '#') . '[A-Za-z]{1,64}$#';
        return preg_match($pattern, $sourceType) === 1;
    }

    /**
     * The XMP packet carrying the digital source type.
     *
     * @param string $sourceType
     * @return string
     * @throws \InvalidArgumentException for anything but an IPTC digital source type URI
     */
    public function packet(string $sourceType): string
    {
        if (!$this->isSourceType($sourceType)) {
            throw new \InvalidArgumentException('Not an IPTC digital source type URI.');
        }
        return "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
            . "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
            . " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
            . "  <rdf:Description rdf:about=\"\" xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\">\n"
            . '   <Iptc4xmpExt:DigitalSourceType>' . $sourceType . "</Iptc4xmpExt:DigitalSourceType>\n"
            . "  </rdf:Description>\n"
            . " </rdf:RDF>\n"
            . "</x:xmpmeta>\n"
            . '<?xpacket end="w"?>';
    }

    /**
     * The image's bytes with the packet embedded, or null.
     *
     * Null when the format is not JPEG, PNG or WebP, the file is malformed, or it already carries XMP.
     *
     * @param string $image
     * @param string $sourceType
     * @return string|null
     */
    public function embed(string $image, string $sourceType): ?string
    {
        $packet = $this->packet($sourceType);
        if (strncmp($image, "\xFF\xD8", 2) === 0) {
            return $this->embedJpeg($image, $packet);
        }
        if (strncmp($image, self::PNG_SIGNATURE, 8) === 0) {
            return $this->embedPng($image, $packet);
        }
        if (strlen($image) >= 20 && substr($image, 0, 4) === 'RIFF' && substr($image, 8, 4) === 'WEBP') {
            return $this->embedWebp($image, $packet);
        }
        return null;
    }

    /**
     * JPEG: APP1 after SOI and any APP0; null when an XMP APP1 exists or the markers are broken.
     *
     * @param string $image
     * @param string $packet
     * @return string|null
     */
    private function embedJpeg(string $image, string $packet): ?string
    {
        $payload = self::JPEG_XMP_HEADER . $packet;
        if (strlen($payload) > self::JPEG_MAX_PAYLOAD) {
            return null;
        }
        $offset = 2;
        $insertAt = 2;
        $length = strlen($image);
        // Walk the marker segments up to the start of scan, looking for an existing XMP packet.
        while ($offset + 4 <= $length && $image[$offset] === "\xFF") {
            $marker = ord($image[$offset + 1]);
            if ($marker === 0xDA || $marker === 0xD9) {
                break;
            }
            $size = $this->uint16($image, $offset + 2, false);
            if ($size < 2 || $offset + 2 + $size > $length) {
                return null;
            }
            $header = substr($image, $offset + 4, strlen(self::JPEG_XMP_HEADER));
            if ($marker === 0xE1 && $header === self::JPEG_XMP_HEADER) {
                return null;
            }
            if ($marker === 0xE0 && $insertAt === $offset) {
                $insertAt = $offset + 2 + $size;
            }
            $offset += 2 + $size;
        }
        $segment = "\xFF\xE1" . pack('n', strlen($payload) + 2) . $payload;
        return substr($image, 0, $insertAt) . $segment . substr($image, $insertAt);
    }

    /**
     * PNG: iTXt after IHDR; null when an XMP chunk exists or the chunks are broken.
     *
     * @param string $image
     * @param string $packet
     * @return string|null
     */
    private function embedPng(string $image, string $packet): ?string
    {
        $length = strlen($image);
        $offset = 8;
        $afterHeader = null;
        while ($offset + 12 <= $length) {
            $size = $this->uint32($image, $offset, false);
            $type = substr($image, $offset + 4, 4);
            if ($offset + 12 + $size > $length) {
                return null;
            }
            if ($type === 'iTXt' && strncmp(substr($image, $offset + 8, 18), "XML:com.adobe.xmp\0", 18) === 0) {
                return null;
            }
            $offset += 12 + $size;
            if ($type === 'IHDR') {
                $afterHeader = $offset;
            }
            if ($type === 'IEND') {
                break;
            }
        }
        if ($afterHeader === null) {
            return null;
        }
        // Keyword, compression flag and method (0: uncompressed), empty language tag and translated keyword.
        $data = "XML:com.adobe.xmp\0\0\0\0\0" . $packet;
        $chunk = pack('N', strlen($data)) . 'iTXt' . $data . pack('N', crc32('iTXt' . $data));
        return substr($image, 0, $afterHeader) . $chunk . substr($image, $afterHeader);
    }

    /**
     * WebP: the extended format with an XMP chunk; simple (VP8/VP8L) files gain a VP8X header.
     *
     * @param string $image
     * @param string $packet
     * @return string|null
     */
    private function embedWebp(string $image, string $packet): ?string
    {
        $chunks = [];
        $offset = 12;
        $length = strlen($image);
        while ($offset + 8 <= $length) {
            $type = substr($image, $offset, 4);
            $size = $this->uint32($image, $offset + 4, true);
            if ($offset + 8 + $size > $length) {
                return null;
            }
            $chunks[] = [$type, substr($image, $offset + 8, $size)];
            $offset += 8 + $size + ($size % 2);
        }
        if ($chunks === [] || in_array('XMP ', array_column($chunks, 0), true)) {
            return null;
        }
        if ($chunks[0][0] !== 'VP8X') {
            $header = $this->webpHeader($chunks[0][0], $chunks[0][1]);
            if ($header === null) {
                return null;
            }
            array_unshift($chunks, ['VP8X', $header]);
        }
        if (strlen($chunks[0][1]) < 10) {
            return null;
        }
        $chunks[0][1][0] = pack('C', ord($chunks[0][1][0]) | 0x04);
        $chunks[] = ['XMP ', $packet];
        $body = 'WEBP';
        foreach ($chunks as [$type, $data]) {
            $body .= $type . pack('V', strlen($data)) . $data . (strlen($data) % 2 === 1 ? "\0" : '');
        }
        return 'RIFF' . pack('V', strlen($body)) . $body;
    }

    /**
     * The VP8X chunk data for a simple WebP: flags, reserved bytes, canvas width and height minus one.
     *
     * @param string $type
     * @param string $data
     * @return string|null
     */
    private function webpHeader(string $type, string $data): ?string
    {
        $flags = 0;
        if ($type === 'VP8 ' && strlen($data) >= 10 && substr($data, 3, 3) === "\x9D\x01\x2A") {
            $width = $this->uint16($data, 6, true) & 0x3FFF;
            $height = $this->uint16($data, 8, true) & 0x3FFF;
        } elseif ($type === 'VP8L' && strlen($data) >= 5 && $data[0] === "\x2F") {
            $bits = $this->uint32($data, 1, true);
            $width = ($bits & 0x3FFF) + 1;
            $height = (($bits >> 14) & 0x3FFF) + 1;
            $flags = ($bits >> 28) & 1 ? 0x10 : 0;
        } else {
            return null;
        }
        if ($width < 1 || $height < 1) {
            return null;
        }
        $canvas = substr(pack('V', $width - 1), 0, 3) . substr(pack('V', $height - 1), 0, 3);
        return pack('C', $flags) . "\0\0\0" . $canvas;
    }

    /**
     * An unsigned 16-bit integer at an offset, little- or big-endian.
     *
     * @param string $bytes
     * @param int $offset
     * @param bool $littleEndian
     * @return int
     */
    private function uint16(string $bytes, int $offset, bool $littleEndian): int
    {
        $first = ord($bytes[$offset]);
        $second = ord($bytes[$offset + 1]);
        return $littleEndian ? $first | ($second << 8) : ($first << 8) | $second;
    }

    /**
     * An unsigned 32-bit integer at an offset, little- or big-endian.
     *
     * @param string $bytes
     * @param int $offset
     * @param bool $littleEndian
     * @return int
     */
    private function uint32(string $bytes, int $offset, bool $littleEndian): int
    {
        $low = $this->uint16($bytes, $offset + ($littleEndian ? 0 : 2), $littleEndian);
        $high = $this->uint16($bytes, $offset + ($littleEndian ? 2 : 0), $littleEndian);
        return ($high << 16) | $low;
    }
}
