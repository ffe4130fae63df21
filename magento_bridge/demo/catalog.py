"""The demo store's catalog: EAV entity types and attributes, products with store-view values,
galleries (image roles, store-view labels and hiding, product videos), staging versions, product
links (the recommendations: related, up-sell, cross-sell, and a grouped-product link that is none)
and product URL rewrites, in Magento 2.4's tables.

Built to catch readers that cut corners: attribute and entity-type ids move with a table prefix or
staging, staging has old and scheduled versions next to the live one, store overrides hide or relabel
images in one store view only, link positions disagree with insertion order, and SKUs hold ``/``,
spaces and non-ASCII letters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from magento_bridge.demo.images import ImageFiles, gallery_path
from magento_bridge.demo.tables import (
    DEMO_EPOCH,
    FUTURE,
    OLD,
    STORE_CODES,
    URL_REWRITE_COLUMNS,
    DemoOptions,
    Tables,
    Version,
    slug,
    timestamp,
    versions,
)

_BATCH_PRODUCTS = 1000
_PRODUCT_ROW_BASE = 1_000_000  # staging row_id = base + 3 * entity_id + version
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
_SCRIPT_LABEL = "<script>alert(1)</script>"
_YOUTUBE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


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


class CatalogWriter:
    """Writes the EAV attributes and, per batch of products, their rows and gallery files; counts
    what a correct reader must find (live versions only)."""

    def __init__(
        self,
        tables: Tables,
        options: DemoOptions,
        *,
        images: ImageFiles,
        faults: list[tuple[str, str]],
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.tables = tables
        self.rows = tables.rows
        self.options = options
        self.n = options.products
        self.staging = options.staging
        self.key = options.key
        self.images = images
        self.progress = progress
        self.rng = random.Random(f"{options.seed}:catalog")
        self.attribute_offset = _MOVED_ATTRIBUTE_OFFSET if options.moved_ids else 0
        self.entity_type_offset = _MOVED_ENTITY_TYPE_OFFSET if options.moved_ids else 0
        self.attr = {code: spec[0] + self.attribute_offset for code, spec in _PRODUCT_ATTRIBUTES.items()}
        self.faults = faults
        self.fault_ids: dict[str, int] = {}
        self.fault_targets = self._fault_targets()
        # what a correct reader must find
        self.gallery_pairs = 0
        self.gallery_rows = 0
        self.hidden = {code: 0 for code in STORE_CODES.values()}
        self.videos = 0
        self.recommendations = 0
        self.link_counts = {code: 0 for code in _LINK_TYPES.values()}

    @property
    def product_entity_type_id(self) -> int:
        return _ENTITY_TYPES["catalog_product"][0] + self.entity_type_offset

    def _fault_targets(self) -> dict[str, int]:
        if not self.options.faults:
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
        self.tables.flush(
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
            "url_rewrite": URL_REWRITE_COLUMNS,
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
            self.tables.flush(columns)
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
            news_from_date = timestamp(DEMO_EPOCH - timedelta(days=rng.randint(1, 120)))
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
        url_en = f"{slug(name_en or sku)}-{eid}"
        url_de = f"{slug(name_de)}-{eid}" if name_de else None
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
            created_at=timestamp(created),
            updated_at=timestamp(updated),
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
                value_id=self.tables.next_id("gallery"),
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
                    value_id=self.tables.next_id("gallery"),
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

    def _versions(self, product: _Product) -> list[Version]:
        eid = product.entity_id
        return versions(
            eid,
            staging=self.staging,
            row_base=_PRODUCT_ROW_BASE,
            has_old=eid % 7 == 3,
            has_future=eid % 11 == 5,
        )

    def _write_image_file(self, image: _Image) -> None:
        fault = next((kind for kind, where in self.faults if where == image.path), None)
        self.images.write(image.path, image.fmt, fault=fault)

    def _write_product(self, p: _Product) -> None:
        rows, attr = self.rows, self.attr
        eid = p.entity_id
        stored = self._versions(p)
        future_extra: _Image | None = None
        if any(v.version == FUTURE for v in stored):
            # A scheduled version adds an image: only a reader that mixes versions would see it.
            future_extra = _Image(
                value_id=self.tables.next_id("gallery"),
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

        for version, key, created_in, updated_in, text in stored:
            updated_at = p.updated_at
            if version == OLD:
                updated_at = p.created_at
            entity = (eid, _ATTRIBUTE_SET_ID, "simple", p.sku, p.created_at, updated_at)
            if self.staging:
                entity = (key, eid, created_in, updated_in, *entity[1:])
            rows["catalog_product_entity"].append(entity)
            self._write_values(p, key, text)
            gallery = p.images + ([future_extra] if version == FUTURE and future_extra else [])
            for image in gallery:
                self._write_gallery_values(image, key, text)
            links = list(p.links)
            if version == FUTURE and not any(t == 5 for t, _, _ in links):
                links.append((5, eid % self.n + 1, 10))  # a cross-sell that does not exist yet
            for link_type, linked, position in links:
                link_id = self.tables.next_id("link")
                rows["catalog_product_link"].append((link_id, key, linked, link_type))
                value_id = self.tables.next_id("link_int")
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
            self.tables.url_rewrite(
                "product", eid, f"{url_key}.html", f"catalog/product/view/id/{eid}", store_id
            )

    def _write_values(self, p: _Product, key: int, text: str) -> None:
        rows, attr = self.rows, self.attr

        def add(backend: str, code: str, store_id: int, value) -> None:
            table = f"catalog_product_entity_{backend}"
            rows[table].append((self.tables.next_id(table), attr[code], store_id, key, value))

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
            (
                self.tables.next_id("record"),
                image.value_id,
                0,
                key,
                label,
                image.position,
                image.store0_disabled,
            )
        )
        if image.store2_row:
            label_de = f"{text}{image.label_de}" if text else image.label_de
            values.append(
                (
                    self.tables.next_id("record"),
                    image.value_id,
                    2,
                    key,
                    label_de,
                    image.position,
                    image.store2_disabled,
                )
            )
        self.rows["catalog_product_entity_media_gallery_value_to_entity"].append((image.value_id, key))
