"""The Magento module's derivative marking on real GD output: a copy resized the way Magento's GD2
adapter writes it (JPEG q80, PNG, WebP) carries no XMP; after the module's writer it carries the IPTC
``Iptc4xmpExt:DigitalSourceType`` that ExifTool and the sidecar's own detector both read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provenance.standards.media_marks import detect_ai_marks
from tests.conftest import tool_required

MODULE = Path(__file__).resolve().parents[2] / "magento-module"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"

# Resize like Magento\Framework\Image\Adapter\Gd2::resize() and save like its save(), then run the
# module's DerivativeMarker on the file (the class the image-save plugin calls).
_SCRIPT = r"""
require $argv[1] . '/Test/bootstrap.php';
[, , $path, $sourceType] = $argv;
\Provenant\Disclosure\Test\Unit\GdDerivatives::write($path);
if ($argv[4] === 'mark') {
    $marker = new \Provenant\Disclosure\Model\Xmp\DerivativeMarker(
        new \Provenant\Disclosure\Model\Xmp\DigitalSourceTypeXmp(),
        new \Magento\Framework\Filesystem\Driver\File()
    );
    exit($marker->mark($path, $sourceType) ? 0 : 3);
}
"""


def _derivative(tmp_path: Path, extension: str, source_type: str, *, mark: bool) -> Path:
    php = tool_required("php", "php-cli, php-gd")
    path = tmp_path / "catalog" / "product" / "cache" / "0f3c" / "a" / "i" / f"ai.{extension}"
    script = tmp_path / "derive.php"
    script.write_text("<?php\n" + _SCRIPT)
    result = subprocess.run(
        [php, str(script), str(MODULE), str(path), source_type, "mark" if mark else "plain"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def _exiftool_source_type(path: Path) -> str:
    exiftool = tool_required("exiftool", "libimage-exiftool-perl")
    result = subprocess.run(
        [exiftool, "-s3", "-XMP-iptcExt:DigitalSourceType", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("extension", ["jpg", "png", "webp"])
def test_gd_output_alone_carries_no_digital_source_type(tmp_path, extension):
    path = _derivative(tmp_path, extension, TRAINED, mark=False)
    assert _exiftool_source_type(path) == ""
    assert detect_ai_marks(path.read_bytes()) == []


@pytest.mark.parametrize("extension", ["jpg", "png", "webp"])
@pytest.mark.parametrize("source_type", [TRAINED, COMPOSITE])
def test_a_marked_derivative_carries_the_source_type_exiftool_and_the_sidecar_read(
    tmp_path, extension, source_type
):
    path = _derivative(tmp_path, extension, source_type, mark=True)
    assert _exiftool_source_type(path) == source_type
    findings = [f for f in detect_ai_marks(path.read_bytes()) if f.kind == "iptc_digital_source_type"]
    assert [f.digital_source_type for f in findings] == [source_type]
    assert findings[0].strength == "conclusive"
    # Still a valid image of the derivative's size, with nothing left beside it.
    result = subprocess.run(
        [tool_required("exiftool", "libimage-exiftool-perl"), "-s3", "-ImageSize", "-Warning", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["265x199"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]
