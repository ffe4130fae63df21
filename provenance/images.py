"""Synthetic media: examine images for AI marks, and mark what generation pipelines produce.

Examining combines the signed and the unsigned marks: a C2PA manifest
(:mod:`provenance.standards.content_credentials`), the IPTC ``DigitalSourceType`` in XMP and generator
fingerprints (:mod:`provenance.standards.media_marks`). Marking does what EU AI Act Art. 50(2) asks of a
provider of generative AI — output marked in a machine-readable, detectable format — in both ways
readers look for: IPTC ``DigitalSourceType`` XMP (:mod:`provenance.standards.xmp`) and a C2PA manifest with a
``c2pa.created`` action signed with the configured certificate; then it registers a generation
record for the exact bytes it returns, so the registry recognises the file when it reaches the
catalog.
"""

from __future__ import annotations

import functools
import hashlib
import io
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from provenance.models import ApiClient, GenerationRecord, Generator, Origin, OriginSource
from provenance.records import RecordConflict, generation_record_submit
from provenance.standards.content_credentials import (
    C2PA_MIME_TYPES,
    CredentialsError,
    SigningCredentials,
    SigningError,
    created_manifest,
    manifest_findings,
    manifest_read,
    manifest_sign,
)
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA, detect_ai_marks, strength_rank
from provenance.standards.xmp import XmpError, XmpTextError, xml_forbidden_character, xmp_embed, xmp_packet

__all__ = [
    "MARKABLE_FORMATS",
    "ImageRejected",
    "MarkedImage",
    "SigningUnavailable",
    "detector_key",
    "evidence_c2pa_state",
    "evidence_origin",
    "image_evidence",
    "image_mark",
    "image_validate",
    "signing_credentials",
]

# Bumped when examination finds more than before, so stored results are examined again.
DETECTOR_VERSION = 2
MARKABLE_FORMATS = ("JPEG", "PNG", "WEBP")


# --- Examining ----------------------------------------------------------------------------------


def detector_key() -> str:
    """Names what examination depends on besides the bytes (detector version, trust anchors)."""
    anchors = hashlib.sha256(settings.C2PA_TRUST_ANCHORS.encode("utf-8")).hexdigest()[:12]
    return f"d{DETECTOR_VERSION}:{anchors}"


def image_evidence(data: bytes) -> list[dict]:
    """Every finding about how an image was made, strongest first, as JSON-ready dicts
    (``kind``, ``strength``, ``detail``, ``digital_source_type``; C2PA findings add ``manifest``).
    Never raises on malformed input: problems are ``unreadable`` findings."""
    findings = [asdict(f) for f in detect_ai_marks(data, max_pixels=settings.MEDIA_MAX_PIXELS)]
    report = manifest_read(data, trust_anchors_pem=settings.C2PA_TRUST_ANCHORS)
    for finding in manifest_findings(report):
        entry = asdict(finding)
        if report is not None and not report.error:
            entry["manifest"] = report.summary()
        findings.append(entry)
    # Strongest first; among equals, signed evidence before unsigned.
    return sorted(
        findings,
        key=lambda f: (
            strength_rank(f["strength"]),
            f["kind"] != "c2pa_manifest",
        ),
    )


def evidence_c2pa_state(evidence: list[dict]) -> str:
    """The C2PA state the evidence shows: ``trusted``, ``valid``, ``invalid``, ``unreadable`` or ``""``."""
    for entry in evidence:
        if entry.get("kind") == "c2pa_manifest":
            return str((entry.get("manifest") or {}).get("state", ""))
    for entry in evidence:
        if entry.get("kind") == "unreadable" and str(entry.get("detail", "")).startswith("C2PA"):
            return "unreadable"
    return ""


def evidence_origin(marks: Iterable[dict]) -> dict[str, object] | None:
    """The origin that media evidence establishes: a valid C2PA manifest or an IPTC term declaring a
    generative source type makes the content synthetic; weaker evidence (a generator fingerprint such
    as PNG parameters or a generator's name as software, a generative C2PA claim that fails
    validation) only makes it suspected, since such metadata is easy to add, strip or damage."""
    conclusive = [m for m in marks if m.get("strength") == "conclusive"]
    strong = [m for m in marks if m.get("strength") == "strong"]
    if not conclusive and not strong:
        return None
    evidence = [
        {"kind": m["kind"], "strength": m["strength"], "detail": m["detail"]} for m in (*conclusive, *strong)
    ]
    if conclusive:
        return {
            "origin": Origin.SYNTHETIC,
            "origin_source": OriginSource.DETECTOR,
            "origin_evidence": evidence,
            "digital_source_type": conclusive[0].get("digital_source_type", ""),
        }
    return {
        "origin": Origin.SUSPECTED,
        "origin_source": OriginSource.DETECTOR,
        "origin_evidence": evidence,
        "digital_source_type": "",
    }


# --- Marking ------------------------------------------------------------------------------------


class ImageRejected(Exception):
    """The image cannot be marked; ``code`` and ``status`` say why in API terms."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class SigningUnavailable(Exception):
    """No usable C2PA signing certificate and key are configured."""


@dataclass(frozen=True)
class ValidImage:
    format: str
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class MarkedImage:
    data: bytes
    sha256: str
    media_type: str
    record: GenerationRecord


def image_validate(data: bytes) -> ValidImage:
    """Check that ``data`` is a whole JPEG, PNG or WebP within the byte and pixel limits, decoding
    it fully so a truncated or corrupt file is refused here rather than signed."""
    limit = settings.IMAGE_MARK_MAX_BYTES
    if len(data) > limit:
        raise ImageRejected("payload_too_large", f"The image is larger than {limit} bytes.", status=413)
    if not data:
        raise ImageRejected("invalid_image", "The image file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=MARKABLE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("image_too_large", "The image declares more pixels than allowed.") from None
    except UnidentifiedImageError:
        raise ImageRejected(
            "unsupported_media_type", "Only JPEG, PNG and WebP images can be marked.", status=415
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected("invalid_image", f"The image header cannot be read ({exc}).") from None
    with image:
        width, height = image.size
        max_pixels = settings.IMAGE_MARK_MAX_PIXELS
        if width * height > max_pixels:
            raise ImageRejected(
                "image_too_large",
                f"The image is {width}x{height} pixels; at most {max_pixels} pixels can be marked.",
            )
        if getattr(image, "n_frames", 1) > 1:
            raise ImageRejected("invalid_image", "Animated images cannot be marked.")
        fmt = image.format
        try:
            image.load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected("invalid_image", f"The {fmt} file is truncated or corrupt ({exc}).") from None
    if manifest_read(data) is not None:
        raise ImageRejected(
            "already_marked",
            "The image already carries a C2PA manifest; send the generator's output before it is signed.",
            status=409,
        )
    return ValidImage(format=fmt, media_type=C2PA_MIME_TYPES[fmt], width=width, height=height)


def signing_credentials() -> SigningCredentials:
    """The configured signing certificate chain and key, checked; raises :class:`SigningUnavailable`."""
    if not settings.C2PA_CERT.strip():
        raise SigningUnavailable(
            "No C2PA signing certificate is configured "
            "(PROVENANT_C2PA_CERT_FILE and PROVENANT_C2PA_KEY_FILE)."
        )
    try:
        return _credentials(settings.C2PA_CERT, settings.C2PA_KEY, settings.C2PA_TSA_URL)
    except CredentialsError as exc:
        raise SigningUnavailable(f"The C2PA signing certificate cannot be used: {exc}.") from None


@functools.lru_cache(maxsize=2)
def _credentials(cert: str, key: str, tsa_url: str) -> SigningCredentials:
    return SigningCredentials.load(cert, key, tsa_url=tsa_url)


def _version() -> str:
    try:
        return metadata.version("provenant")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def image_mark(
    *,
    data: bytes,
    generator: Generator,
    generator_version: str,
    prompt_sha256: str,
    input_sha256s: list[str],
    parameters: dict,
    generated_at: datetime,
    external_id: str,
    pipeline_run_id: str = "",
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    title: str = "",
    actor: ApiClient,
) -> MarkedImage:
    """Mark a generated image and register its generation record; return the marked file.

    The IPTC ``DigitalSourceType`` goes into the XMP packet first, then a C2PA manifest
    (``c2pa.created`` with the same source type, the generator as software agent) is signed over
    the result, and the record is registered with the SHA-256 of the returned bytes. Raises
    :class:`ImageRejected` for an image that cannot be marked, :class:`SigningUnavailable` without
    usable credentials, and :class:`RecordConflict` when ``external_id`` was used before (signatures
    differ on every run, so a replay cannot return the same file).
    """
    image = image_validate(data)
    credentials = signing_credentials()
    existing = GenerationRecord.objects.filter(client=actor, external_id=external_id).first()
    if existing is not None:
        raise RecordConflict(existing)
    for field, text in (
        ("generator", generator.name),
        ("generator_version", generator_version),
        ("title", title),
    ):
        if (char := xml_forbidden_character(text)) is not None:
            raise ImageRejected(
                "invalid",
                f"{field} contains {char}, a character XML 1.0 forbids, so the XMP mark would be unreadable.",
            )
    agent = f"{generator.name} {generator_version}".strip()
    try:
        with_xmp = xmp_embed(
            data, xmp_packet(digital_source_type=digital_source_type, creator_tool=agent, title=title)
        )
    except XmpTextError as exc:
        raise ImageRejected("invalid", f"{exc}, so the XMP mark would be unreadable.") from None
    except XmpError as exc:
        raise ImageRejected("invalid_image", f"The image container cannot be rewritten: {exc}.") from None
    manifest = created_manifest(
        title=title or external_id,
        digital_source_type=digital_source_type,
        generator=generator.name,
        generator_version=generator_version,
        claim_generator="Provenant",
        claim_generator_version=_version(),
    )
    try:
        signed = manifest_sign(with_xmp, image.media_type, manifest=manifest, credentials=credentials)
    except SigningError as exc:
        raise SigningUnavailable(f"C2PA signing failed: {exc}") from None
    digest = hashlib.sha256(signed).hexdigest()
    submission = generation_record_submit(
        generator=generator,
        generator_version=generator_version,
        prompt_sha256=prompt_sha256,
        input_sha256s=input_sha256s,
        parameters=parameters,
        output_sha256=digest,
        output_media_type=image.media_type,
        generated_at=generated_at,
        pipeline_run_id=pipeline_run_id,
        external_id=external_id,
        actor=actor,
    )
    return MarkedImage(data=signed, sha256=digest, media_type=image.media_type, record=submission.record)
