"""C2PA Content Credentials for images: read and validate manifests, sign new ones, and make
development certificates.

Implements the image side of the C2PA Technical Specification (2.x) through ``c2pa-python`` (the
bindings of the Content Authenticity Initiative's ``c2pa-rs``): a manifest store embedded as JUMBF
(JPEG APP11, PNG ``caBX``, WebP ``C2PA`` chunk) holds assertions, a claim and a COSE_Sign1 claim
signature over an X.509 chain; a hard binding (``c2pa.hash.data``) covers the file's bytes. The first
action of a created asset is ``c2pa.created`` with an IPTC ``digitalSourceType``; for generative AI
that is ``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia``.

Reading reports the validation state the specification defines (``Invalid``, ``Valid``,
``Trusted``): ``Valid`` means the signature and hashes check out but the signer's chain does not
lead to a configured trust anchor; ``Trusted`` means it does. Files without the JUMBF signature are
skipped without calling the native reader, so unmarked images, the common case, pay a byte scan.

This module does not import Django: the settings it needs are passed in.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
from dataclasses import asdict, dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.standards.media_marks import (
    MarkFinding,
    container_summary,
    is_generative,
    normalise_digital_source_type,
)

__all__ = [
    "C2PA_MIME_TYPES",
    "CredentialsError",
    "DevelopmentCredentials",
    "created_manifest",
    "opened_manifest",
    "PARENT_LABEL",
    "ManifestReport",
    "SigningCredentials",
    "SigningError",
    "development_credentials",
    "manifest_findings",
    "manifest_read",
    "manifest_sign",
    "may_hold_manifest",
]

C2PA_MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff"}
_DEVELOPMENT_CA_SUFFIX = " development CA"
_SHOWN = 120  # characters of signer and generator names kept in a finding's detail


class CredentialsError(ValueError):
    """A signing certificate or key that cannot be used, with the reason."""


class SigningError(RuntimeError):
    """The C2PA library refused to sign (the reason is in the message)."""


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestAction:
    action: str
    digital_source_type: str = ""
    software_agent: str = ""


@dataclass(frozen=True)
class ManifestReport:
    """What the active manifest of a file says, and whether it holds up."""

    validation_state: str = ""  # "Invalid" | "Valid" | "Trusted" ("" when unreadable)
    failures: tuple[str, ...] = ()
    signer: str = ""  # the signing certificate's common name
    issuer: str = ""  # the signing certificate's organisation
    signing_alg: str = ""
    signed_at: str = ""  # from a trusted timestamp, when there is one
    claim_generator: str = ""
    title: str = ""
    actions: tuple[ManifestAction, ...] = ()
    manifests: int = 0
    error: str = ""  # why the manifest store could not be read

    @property
    def digital_source_type(self) -> str:
        """The source type of the first action that declares one (normally ``c2pa.created``)."""
        for action in self.actions:
            if action.digital_source_type:
                return action.digital_source_type
        return ""

    @property
    def generative(self) -> bool:
        return is_generative(self.digital_source_type)

    @property
    def state(self) -> str:
        """The registry's word for this report: ``trusted``, ``valid``, ``invalid`` or ``unreadable``."""
        return self.validation_state.lower() if self.validation_state else "unreadable"

    def summary(self) -> dict:
        """A JSON-ready summary for storage and display."""
        data = asdict(self)
        data["actions"] = [asdict(a) for a in self.actions]
        data["failures"] = list(self.failures)
        data["state"] = self.state
        data["digital_source_type"] = self.digital_source_type
        return data


def may_hold_manifest(data: bytes) -> bool:
    """Whether ``data`` may embed a C2PA manifest store. False means it certainly does not: the
    container has no box where C2PA keeps one (JPEG APP11, PNG ``caBX``, WebP ``C2PA``), or, for
    other and malformed files, the bytes of a JUMBF superbox labelled ``c2pa`` appear nowhere."""
    summary = container_summary(data)
    if summary is not None:
        return summary.has_c2pa
    return b"jumb" in data and b"c2pa" in data


def manifest_read(data: bytes, *, trust_anchors_pem: str = "") -> ManifestReport | None:
    """Read and validate the active C2PA manifest of an image; ``None`` when it carries none.

    ``trust_anchors_pem`` holds the CA certificates (PEM, concatenated) whose signers count as
    trusted. Malformed manifest stores give a report with ``error`` set; this never raises on input.
    """
    if not may_hold_manifest(data):
        return None
    import c2pa  # the native library loads on first use, not when the registry starts

    try:
        reader = c2pa.Reader.try_create(io.BytesIO(data), context=_context(trust_anchors_pem))
    except c2pa.C2paError as exc:
        return ManifestReport(error=_reason(exc))
    except Exception as exc:  # noqa: BLE001 - hostile bytes must not escape as an exception
        return ManifestReport(error=f"manifest store could not be read ({type(exc).__name__})")
    if reader is None:
        return None
    with reader:
        try:
            store = json.loads(reader.json())
            state = reader.get_validation_state() or ""
            results = reader.get_validation_results() or {}
        except (c2pa.C2paError, ValueError) as exc:
            return ManifestReport(error=_reason(exc))
    return _report(store, state, results)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"manifest store could not be read ({text[:200]})"


@functools.lru_cache(maxsize=4)
def _context(trust_anchors_pem: str):
    import c2pa

    # Reading never goes to the network: a hostile file must not make the sync fetch a "remote
    # manifest" or an OCSP response from an address it names.
    settings: dict = {
        "verify": {
            "verify_trust": bool(trust_anchors_pem),
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        }
    }
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return c2pa.Context.from_dict(settings)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _report(store: dict, state: str, results: dict) -> ManifestReport:
    # Assertion data is whatever the image's author put there: every level may have any JSON type.
    manifests = _dict(_dict(store).get("manifests"))
    active_label = _dict(store).get("active_manifest")
    active = _dict(manifests.get(active_label)) if isinstance(active_label, str) else {}
    actions: list[ManifestAction] = []
    for assertion in _list(active.get("assertions")):
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for entry in _list(_dict(assertion.get("data")).get("actions")):
            if not isinstance(entry, dict):
                continue
            source = entry.get("digitalSourceType") or ""
            actions.append(
                ManifestAction(
                    action=str(entry.get("action", ""))[:_SHOWN],
                    digital_source_type=normalise_digital_source_type(str(source)) if source else "",
                    software_agent=_agent(entry.get("softwareAgent"))[:_SHOWN],
                )
            )
    signature = _dict(active.get("signature_info"))
    active_results = _dict(_dict(results).get("activeManifest"))
    failed = _list(active_results.get("failure"))
    failures = tuple(str(f.get("code", "")) for f in failed if isinstance(f, dict))
    return ManifestReport(
        validation_state=state if isinstance(state, str) else "",
        failures=failures,
        signer=str(signature.get("common_name") or "")[:_SHOWN],
        issuer=str(signature.get("issuer") or "")[:_SHOWN],
        signing_alg=str(signature.get("alg") or ""),
        signed_at=str(signature.get("time") or ""),
        claim_generator=_claim_generator(active)[:_SHOWN],
        title=str(active.get("title") or "")[:_SHOWN],
        actions=tuple(actions),
        manifests=len(manifests),
    )


def _agent(value: object) -> str:
    if isinstance(value, dict):
        name, version = str(value.get("name", "")), str(value.get("version", ""))
        return f"{name} {version}".strip()
    return str(value or "")


def _claim_generator(manifest: dict) -> str:
    infos = _list(manifest.get("claim_generator_info"))
    if infos and isinstance(infos[0], dict):
        return _agent(infos[0])
    return str(manifest.get("claim_generator") or "")


def manifest_findings(report: ManifestReport | None) -> list[MarkFinding]:
    """Evidence from a manifest report: a valid (or trusted) manifest declaring a generative source
    type is conclusive; a generative declaration in a manifest that fails validation is strong (the
    file was changed after signing, or the signature is broken); any other manifest is recorded
    without weight."""
    if report is None:
        return []
    if report.error:
        return [MarkFinding("unreadable", "none", f"C2PA {report.error}")]
    signer = report.signer or "an unnamed signer"
    if report.issuer:
        signer += f" ({report.issuer})"
    trust = {
        "Trusted": "trusted",
        "Valid": "valid, signer not on the trust list",
        "Invalid": "INVALID: " + ", ".join(report.failures[:4]),
    }.get(report.validation_state, report.validation_state or "unknown state")
    source = report.digital_source_type
    term = source.rsplit("/", 1)[-1] if source else "no digital source type"
    generator = f", claim generator '{report.claim_generator}'" if report.claim_generator else ""
    detail = f"C2PA manifest ({trust}) signed by {signer}{generator}: {term}"
    if report.generative:
        strength = "conclusive" if report.validation_state in ("Valid", "Trusted") else "strong"
    else:
        strength = "none" if report.validation_state in ("Valid", "Trusted") else "weak"
    return [MarkFinding("c2pa_manifest", strength, detail, digital_source_type=source)]


# --- Signing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningCredentials:
    """An end-entity certificate chain (leaf first) and its private key, checked to belong together."""

    chain_pem: str
    key_pem: str
    alg: str
    subject: str
    not_after: dt.datetime
    tsa_url: str = ""
    issuer_is_development: bool = False

    @classmethod
    def load(cls, chain_pem: str, key_pem: str, *, tsa_url: str = "") -> SigningCredentials:
        """Check a certificate chain and key; raise :class:`CredentialsError` naming the problem."""
        try:
            chain = x509.load_pem_x509_certificates(chain_pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise CredentialsError(f"the certificate file holds no PEM certificate ({exc})") from None
        try:
            key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            raise CredentialsError(f"the key file holds no unencrypted PEM private key ({exc})") from None
        leaf = chain[0]
        if leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            raise CredentialsError("the private key does not belong to the first certificate in the chain")
        if leaf.issuer == leaf.subject:
            raise CredentialsError(
                "the signing certificate is self-signed; C2PA needs an end-entity certificate issued by a CA"
            )
        try:
            basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            basic = None
        if basic is not None and basic.ca:
            raise CredentialsError(
                "the signing certificate is a CA certificate; use an end-entity certificate"
            )
        now = dt.datetime.now(dt.UTC)
        if leaf.not_valid_after_utc <= now:
            raise CredentialsError(f"the signing certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}")
        return cls(
            chain_pem=chain_pem,
            key_pem=key_pem,
            alg=_algorithm(key),
            subject=leaf.subject.rfc4514_string(),
            not_after=leaf.not_valid_after_utc,
            tsa_url=tsa_url,
            issuer_is_development=any(
                str(a.value).endswith(_DEVELOPMENT_CA_SUFFIX)
                for a in leaf.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
            ),
        )


def _algorithm(key) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in curves:
            raise CredentialsError(f"EC curve {key.curve.name} is not allowed by C2PA (use P-256 or P-384)")
        return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise CredentialsError("RSA keys must have at least 2048 bits")
        return "ps256"
    raise CredentialsError(f"{type(key).__name__} keys cannot sign C2PA claims")


def created_manifest(
    *,
    title: str,
    digital_source_type: str,
    generator: str,
    generator_version: str,
    claim_generator: str,
    claim_generator_version: str,
    soft_bindings: tuple[dict, ...] = (),
) -> dict:
    """A manifest definition for a newly generated image: one ``c2pa.created`` action carrying the
    IPTC digital source type, with the generator as its software agent, followed by any
    ``c2pa.soft-binding`` assertions (watermarks or fingerprints that find a stripped copy)."""
    return {
        "claim_generator_info": [{"name": claim_generator, "version": claim_generator_version}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": digital_source_type,
                            "softwareAgent": {"name": generator, "version": generator_version},
                        }
                    ]
                },
            },
            *soft_bindings,
        ],
    }


PARENT_LABEL = "parent"


def opened_manifest(
    *,
    title: str,
    digital_source_type: str,
    generator: str,
    generator_version: str,
    claim_generator: str,
    claim_generator_version: str,
    soft_bindings: tuple[dict, ...] = (),
) -> dict:
    """A manifest definition for an image that already carried someone else's C2PA manifest (a
    generator vendor's): the original is the ``parentOf`` ingredient (see :func:`manifest_sign`'s
    ``parent``), so its manifest stays in the new manifest store and validates as it did (the Code
    of Practice, Measure 1.2: existing marks are kept, not stripped). Actions per C2PA 2.x:
    ``c2pa.opened`` on that ingredient, declaring the IPTC digital source type, then ``c2pa.edited``
    by the claim generator for the watermark and the XMP it added."""
    return {
        "claim_generator_info": [{"name": claim_generator, "version": claim_generator_version}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.opened",
                            "digitalSourceType": digital_source_type,
                            "softwareAgent": {"name": generator, "version": generator_version},
                            "parameters": {"ingredientIds": [PARENT_LABEL]},
                        },
                        {
                            "action": "c2pa.edited",
                            "softwareAgent": {"name": claim_generator, "version": claim_generator_version},
                            "description": "imperceptible watermark and IPTC DigitalSourceType added",
                        },
                    ]
                },
            },
            *soft_bindings,
        ],
    }


def manifest_sign(
    data: bytes,
    mime_type: str,
    *,
    manifest: dict,
    credentials: SigningCredentials,
    parent: bytes | None = None,
    parent_title: str = "",
) -> bytes:
    """Embed a signed C2PA manifest built from ``manifest`` in the image ``data`` and return the new
    file. ``parent``: the file as it arrived, with its own manifest, added as the ``parentOf``
    ingredient labelled :data:`PARENT_LABEL` (for :func:`opened_manifest`). Raises
    :class:`SigningError` when the library refuses (the message says why)."""
    import c2pa

    try:
        info = c2pa.C2paSignerInfo(
            credentials.alg,
            credentials.chain_pem.encode("ascii"),
            credentials.key_pem.encode("ascii"),
            credentials.tsa_url or None,
        )
        out = io.BytesIO()
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            if parent is not None:
                ingredient = {"title": parent_title or "original", "relationship": "parentOf"}
                builder.add_ingredient({**ingredient, "label": PARENT_LABEL}, mime_type, io.BytesIO(parent))
            builder.sign(signer, mime_type, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise SigningError(str(exc) or type(exc).__name__) from None
    return out.getvalue()


# --- Development certificates -------------------------------------------------------------------


@dataclass(frozen=True)
class DevelopmentCredentials:
    ca_pem: str
    chain_pem: str
    key_pem: str


def development_credentials(
    organisation: str, *, days: int = 365, now: dt.datetime | None = None
) -> DevelopmentCredentials:
    """A local CA and an ES256 leaf certificate it issued, for development and tests only.

    The leaf carries what C2PA validators require of a signing certificate: BasicConstraints CA=false
    (critical), KeyUsage digitalSignature (critical), ExtendedKeyUsage emailProtection,
    SubjectKeyIdentifier, AuthorityKeyIdentifier and an organisation in the subject. Readers trust it
    only when the CA is configured as a trust anchor; production needs a certificate from a CA on the
    C2PA trust list.
    """
    now = now or dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation}{_DEVELOPMENT_CA_SUFFIX}"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=days * 2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} content signer (development)"),
        ]
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(leaf_name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def pem(cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return DevelopmentCredentials(ca_pem=pem(ca), chain_pem=pem(leaf) + pem(ca), key_pem=key_pem)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
