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
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from provenance.marks import (
    EmbeddedMarks,
    image_mark_save,
    marks_embed,
    marks_log_fields,
    watermark_in,
)
from provenance.models import ApiClient, GenerationRecord, Generator, Origin, OriginSource
from provenance.records import RecordConflict, generation_record_submit
from provenance.standards.content_credentials import (
    C2PA_MIME_TYPES,
    CredentialsError,
    ManifestReport,
    SigningCredentials,
    SigningError,
    created_manifest,
    manifest_findings,
    manifest_read,
    manifest_sign,
    opened_manifest,
)
from provenance.standards.fingerprint import soft_binding_assertion
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA, detect_ai_marks, strength_rank
from provenance.standards.xmp import XmpError, XmpTextError, xml_forbidden_character, xmp_embed, xmp_packet

__all__ = [
    "IMAGE_MARK_ERRORS",
    "MARKABLE_FORMATS",
    "ExternalIdUsed",
    "ImageMarkError",
    "ImageRejected",
    "MarkFailure",
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


@dataclass(frozen=True)
class MarkFailure:
    """One row of :data:`IMAGE_MARK_ERRORS`: the API's error code and HTTP status, and the message
    for people (a :meth:`str.format` template)."""

    code: str
    status: int
    message: str


# Every reason marking can fail, the one source of what the API and ``provenance_mark`` say.
IMAGE_MARK_ERRORS: dict[str, MarkFailure] = {
    "too_many_bytes": MarkFailure("payload_too_large", 413, "The image is larger than {limit} bytes."),
    "empty": MarkFailure("invalid_image", 400, "The image file is empty."),
    "pixel_bomb": MarkFailure("image_too_large", 400, "The image declares more pixels than allowed."),
    "unsupported_format": MarkFailure(
        "unsupported_media_type", 415, "Only JPEG, PNG and WebP images can be marked."
    ),
    "unreadable_header": MarkFailure("invalid_image", 400, "The image header cannot be read ({cause})."),
    "too_many_pixels": MarkFailure(
        "image_too_large",
        400,
        "The image is {width}x{height} pixels; at most {max_pixels} pixels can be marked.",
    ),
    "animated": MarkFailure("invalid_image", 400, "Animated images cannot be marked."),
    "corrupt": MarkFailure("invalid_image", 400, "The {format} file is truncated or corrupt ({cause})."),
    "already_marked": MarkFailure(
        "already_marked",
        409,
        "The image already carries a C2PA manifest of {claim_generator}; each image is marked once.",
    ),
    "already_watermarked": MarkFailure(
        "already_marked",
        409,
        "The image already carries this registry's watermark (generation record {record_id}); "
        "each image is marked once.",
    ),
    "xml_forbidden": MarkFailure(
        "invalid",
        400,
        "{field} contains {char}, a character XML 1.0 forbids, so the XMP mark would be unreadable.",
    ),
    "container_unwritable": MarkFailure(
        "invalid_image", 400, "The image container cannot be rewritten: {cause}."
    ),
    "no_certificate": MarkFailure(
        "signing_unavailable",
        503,
        "No C2PA signing certificate is configured (PROVENANT_C2PA_CERT_FILE and PROVENANT_C2PA_KEY_FILE).",
    ),
    "unusable_certificate": MarkFailure(
        "signing_unavailable", 503, "The C2PA signing certificate cannot be used: {cause}."
    ),
    "signing_failed": MarkFailure("signing_unavailable", 503, "C2PA signing failed: {cause}"),
    "external_id_used": MarkFailure(
        "conflict",
        409,
        "external_id {external_id!r} was already used (record {record_id}); each image is marked once.",
    ),
}


class ImageMarkError(Exception):
    """Marking failed for a ``reason`` of :data:`IMAGE_MARK_ERRORS`; ``code``, ``status`` and the
    message come from its row, filled in with ``details``."""

    def __init__(self, reason: str, /, **details: object) -> None:
        failure = IMAGE_MARK_ERRORS[reason]
        super().__init__(failure.message.format(**details))
        self.reason = reason
        self.code = failure.code
        self.status = failure.status


class ImageRejected(ImageMarkError):
    """The image cannot be marked."""


class SigningUnavailable(ImageMarkError):
    """No usable C2PA signing certificate and key are configured."""


class ExternalIdUsed(ImageMarkError):
    """The client already used the external id: each image is marked once (signatures differ on
    every run, so a replay cannot return the same file)."""

    def __init__(self, record: GenerationRecord) -> None:
        super().__init__("external_id_used", external_id=record.external_id, record_id=record.pk)
        self.record = record


@dataclass(frozen=True)
class ValidImage:
    format: str
    media_type: str
    width: int
    height: int
    # Someone else's C2PA manifest the image arrived with (a generator vendor's): kept as the
    # parent ingredient of the manifest marking signs, never stripped.
    foreign_manifest: ManifestReport | None = None


OUR_CLAIM_GENERATOR = "Provenant"


@dataclass(frozen=True)
class MarkedImage:
    data: bytes
    sha256: str
    media_type: str
    record: GenerationRecord
    marks: EmbeddedMarks


def image_validate(data: bytes) -> ValidImage:
    """Check that ``data`` is a whole JPEG, PNG or WebP within the byte and pixel limits, decoding
    it fully so a truncated or corrupt file is refused here rather than signed."""
    limit = settings.IMAGE_MARK_MAX_BYTES
    if len(data) > limit:
        raise ImageRejected("too_many_bytes", limit=limit)
    if not data:
        raise ImageRejected("empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=MARKABLE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("pixel_bomb") from None
    except UnidentifiedImageError:
        raise ImageRejected("unsupported_format") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected("unreadable_header", cause=exc) from None
    with image:
        width, height = image.size
        max_pixels = settings.IMAGE_MARK_MAX_PIXELS
        if width * height > max_pixels:
            raise ImageRejected("too_many_pixels", width=width, height=height, max_pixels=max_pixels)
        if getattr(image, "n_frames", 1) > 1:
            raise ImageRejected("animated")
        fmt = image.format
        try:
            image.load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageRejected("corrupt", format=fmt, cause=exc) from None
    report = manifest_read(data)
    if report is not None and report.claim_generator.split(" ")[0] == OUR_CLAIM_GENERATOR:
        raise ImageRejected("already_marked", claim_generator=OUR_CLAIM_GENERATOR)
    if (mark := watermark_in(data)) is not None:
        raise ImageRejected("already_watermarked", record_id=mark.record_id)
    return ValidImage(
        format=fmt, media_type=C2PA_MIME_TYPES[fmt], width=width, height=height, foreign_manifest=report
    )


def signing_credentials() -> SigningCredentials:
    """The configured signing certificate chain and key, checked; raises :class:`SigningUnavailable`."""
    if not settings.C2PA_CERT.strip():
        raise SigningUnavailable("no_certificate")
    try:
        return _credentials(settings.C2PA_CERT, settings.C2PA_KEY, settings.C2PA_TSA_URL)
    except CredentialsError as exc:
        raise SigningUnavailable("unusable_certificate", cause=exc) from None


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

    An imperceptible watermark carrying a fresh short id goes into the pixels first and the
    image's ISCC Image-Code is taken (:func:`provenance.marks.marks_embed`; images too small or of
    a kind the watermark cannot carry keep their pixels, and ``marks.watermark_note`` says why).
    The IPTC ``DigitalSourceType`` goes into the XMP packet next, then a C2PA manifest
    (``c2pa.created`` with the same source type, the generator as software agent) is signed over
    the result (with the Image-Code as a ``c2pa.soft-binding`` assertion), and the record is
    registered with the SHA-256 of the returned bytes, the short id and the Image-Code in its log
    entry, and the marks stored for lookup. Raises an
    :class:`ImageMarkError` (one row of :data:`IMAGE_MARK_ERRORS`): :class:`ImageRejected` for an
    image that cannot be marked, :class:`SigningUnavailable` without usable credentials, and
    :class:`ExternalIdUsed` when ``external_id`` was used before (signatures differ on every run,
    so a replay cannot return the same file).
    """
    image = image_validate(data)
    credentials = signing_credentials()
    existing = GenerationRecord.objects.filter(client=actor, external_id=external_id).first()
    if existing is not None:
        raise ExternalIdUsed(existing)
    for field, text in (
        ("generator", generator.name),
        ("generator_version", generator_version),
        ("title", title),
    ):
        if (char := xml_forbidden_character(text)) is not None:
            raise ImageRejected("xml_forbidden", field=field, char=char)
    agent = f"{generator.name} {generator_version}".strip()
    marks = marks_embed(data)
    try:
        with_xmp = xmp_embed(
            marks.data, xmp_packet(digital_source_type=digital_source_type, creator_tool=agent, title=title)
        )
    except XmpTextError as exc:
        raise ImageRejected("xml_forbidden", field=exc.field, char=exc.char) from None
    except XmpError as exc:
        raise ImageRejected("container_unwritable", cause=exc) from None
    manifest = (opened_manifest if image.foreign_manifest is not None else created_manifest)(
        title=title or external_id,
        digital_source_type=digital_source_type,
        generator=generator.name,
        generator_version=generator_version,
        claim_generator=OUR_CLAIM_GENERATOR,
        claim_generator_version=_version(),
        soft_bindings=(soft_binding_assertion(marks.code),),
    )
    parent = data if image.foreign_manifest is not None else None
    try:
        signed = manifest_sign(
            with_xmp,
            image.media_type,
            manifest=manifest,
            credentials=credentials,
            parent=parent,
            parent_title=(image.foreign_manifest.title if image.foreign_manifest else "") or external_id,
        )
    except SigningError as exc:
        raise SigningUnavailable("signing_failed", cause=exc) from None
    digest = hashlib.sha256(signed).hexdigest()
    try:
        with transaction.atomic():
            submission = _submit_with_marks(
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
                marks=marks,
                digital_source_type=digital_source_type,
            )
    except RecordConflict as exc:  # a concurrent request with the same external id came first
        raise ExternalIdUsed(exc.record) from None
    return MarkedImage(
        data=signed, sha256=digest, media_type=image.media_type, record=submission.record, marks=marks
    )


def _submit_with_marks(*, marks: EmbeddedMarks, **values):
    """Submit the record and store its marks in the caller's transaction; a replay (an existing
    record) is a conflict here, since every marking embeds a new short id."""
    submission = generation_record_submit(**values, image_marks=marks_log_fields(marks))
    if not submission.created:
        raise RecordConflict(submission.record)
    image_mark_save(record=submission.record, marks=marks)
    return submission
