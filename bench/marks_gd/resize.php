<?php
// Resize images the way Magento's GD2 image adapter does (Magento\Framework\Image\Adapter\Gd2):
// keep the aspect ratio inside the role's box, optionally "frame" the result on a white canvas of the
// box's size, resample with imagecopyresampled, and save as JPEG (quality) or PNG. No metadata is
// copied: GD writes none.
//
//     php resize.php JOBS.json
//
// JOBS.json: [{"in": path, "out": path, "width": int, "height": int, "format": "jpeg"|"png",
//              "quality": int, "frame": bool}, ...]
declare(strict_types=1);

$jobs = json_decode((string) file_get_contents($argv[1]), true, 8, JSON_THROW_ON_ERROR);
foreach ($jobs as $job) {
    $source = imagecreatefromstring((string) file_get_contents($job['in']));
    if ($source === false) {
        fwrite(STDERR, "cannot read {$job['in']}\n");
        exit(1);
    }
    $w = imagesx($source);
    $h = imagesy($source);
    $scale = min($job['width'] / $w, $job['height'] / $h);
    $dw = max(1, (int) round($w * $scale));
    $dh = max(1, (int) round($h * $scale));
    $cw = $job['frame'] ? (int) $job['width'] : $dw;
    $ch = $job['frame'] ? (int) $job['height'] : $dh;
    $target = imagecreatetruecolor($cw, $ch);
    imagefill($target, 0, 0, imagecolorallocate($target, 255, 255, 255));
    $x = intdiv($cw - $dw, 2);
    $y = intdiv($ch - $dh, 2);
    imagecopyresampled($target, $source, $x, $y, 0, 0, $dw, $dh, $w, $h);
    if ($job['format'] === 'png') {
        imagepng($target, $job['out']);
    } else {
        imagejpeg($target, $job['out'], (int) $job['quality']);
    }
}
