"""The demo store's CMS: patient-education blocks and pages in English and German, assigned to
one store view, both or all (store 0), some inactive, with staging versions, page URL rewrites, an
identifier shared by blocks of two store views, and a block of broken HTML with a script in it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from magento_bridge.demo.tables import (
    DEMO_EPOCH,
    FUTURE,
    STORE_CODES,
    URL_REWRITE_COLUMNS,
    DemoOptions,
    Tables,
    Version,
    slug,
    timestamp,
    versions,
)

_CMS_ROW_BASE = 50_000

# Store assignments by item number: store 0 (all), one store view, or both.
_BLOCK_STORES = {0: (0,), 1: (1,), 2: (2,), 3: (0,), 4: (1, 2), 5: (1,)}  # by i % 6
_PAGE_STORES = {0: (0,), 1: (1,), 2: (2,), 3: (0,), 4: (1, 2)}  # by i % 5

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
_BROKEN_CMS = (
    "<div class=\"notice\"><p>Opening hours may change over the holidays.<script>alert('cms')</script>"
    "<p>Call us for <b>details<ul><li>Monday to Friday"
)


@dataclass
class _CmsItem:
    """One block or page, as every version of it shares it."""

    table: str  # cms_block or cms_page
    i: int
    stores: tuple[int, ...]
    identifier: str
    title: str
    title_en: str
    content: str
    is_active: int
    created: datetime
    updated: datetime

    @property
    def item_id(self) -> int:
        return self.i + 1

    @property
    def is_block(self) -> bool:
        return self.table == "cms_block"


class CmsWriter:
    """Writes the blocks and pages and counts, per store view, the ones a correct reader finds."""

    def __init__(
        self,
        tables: Tables,
        options: DemoOptions,
        *,
        faults: list[tuple[str, str]],
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.tables = tables
        self.rows = tables.rows
        self.options = options
        self.staging = options.staging
        self.faults = faults
        self.progress = progress
        self.expected: dict[str, dict[str, int]] = {
            code: {"cms_block": 0, "cms_page": 0} for code in STORE_CODES.values()
        }
        self.block_count = 0
        self.page_count = 0

    def write(self) -> None:
        rng = random.Random(f"{self.options.seed}:cms")
        total = max(self.options.products // 50, 11)
        n_blocks = max(6, total * 3 // 5)
        n_pages = max(5, total - n_blocks)
        for i in range(n_blocks):
            self._write_item(self._plan_item("cms_block", i, rng))
        for i in range(n_pages):
            self._write_item(self._plan_item("cms_page", i, rng))
        self.block_count, self.page_count = n_blocks, n_pages
        self.tables.flush(self._columns())
        self.progress("cms", n_blocks + n_pages, n_blocks + n_pages)

    def _columns(self) -> dict[str, Sequence[str]]:
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
            "url_rewrite": URL_REWRITE_COLUMNS,
        }
        if self.staging:
            columns["sequence_cms_block"] = ("sequence_value",)
            columns["sequence_cms_page"] = ("sequence_value",)
        return columns

    # -- one item ---------------------------------------------------------------------------------

    def _plan_item(self, table: str, i: int, rng: random.Random) -> _CmsItem:
        is_block = table == "cms_block"
        stores = _BLOCK_STORES[i % 6] if is_block else _PAGE_STORES[i % 5]
        german = stores == (2,)
        title_en, title_de, body_en, body_de = _TOPICS[(i + (0 if is_block else 3)) % len(_TOPICS)]
        identifier, title = _identifier_and_title(
            is_block, i, title_en, title_de if german else title_en, german
        )
        content = self._content(is_block, i, title, body_de if german else body_en, german)
        is_active = 0 if (is_block and i % 7 == 5) or (not is_block and i % 5 == 4) else 1
        created = DEMO_EPOCH - timedelta(days=rng.randint(100, 700), seconds=rng.randint(0, 86_399))
        updated = created + timedelta(days=rng.randint(0, 90), seconds=rng.randint(0, 3_600))
        return _CmsItem(table, i, stores, identifier, title, title_en, content, is_active, created, updated)

    def _content(self, is_block: bool, i: int, title: str, paragraphs: tuple[str, str], german: bool) -> str:
        """The item's HTML: heading, paragraphs, a tip and the disclaimer in its language; every fourth
        with a ``{{store url}}`` directive; one block broken on purpose."""
        disclaimer = _DISCLAIMER[1] if german else _DISCLAIMER[0]
        tip = _ASK_PHARMACIST[1] if german else _ASK_PHARMACIST[0]
        content = (
            f"<h2>{title}</h2>\n<p>{paragraphs[0]}</p>\n"
            f"<ul>\n  <li>{paragraphs[1]}</li>\n  <li>{tip}</li>\n</ul>\n"
            f"<p><small>{disclaimer}</small></p>"
        )
        if i % 4 == 0:
            content += '\n<p><a href="{{store url="customer-service"}}">Customer service</a></p>'
        if is_block and i == 3 and self.options.faults:
            content = _BROKEN_CMS
            self.faults.append(("cms_script", f"block_id:{i + 1}"))
        return content

    def _versions(self, item: _CmsItem) -> list[tuple[Version, tuple[int, ...]]]:
        """Each stored version with the store views it is assigned to: a scheduled version also
        reaches another store view."""
        i = item.i
        found = versions(
            item.item_id,
            staging=self.staging,
            row_base=_CMS_ROW_BASE,
            has_old=i % 4 == 2,
            has_future=i % 5 == 1,
        )
        wider = tuple(sorted({*item.stores, 1, 2})) if 0 not in item.stores else item.stores
        return [(v, wider if v.version == FUTURE else item.stores) for v in found]

    def _row(self, item: _CmsItem, version: Version) -> tuple:
        text = version.text
        content = f"<p>{text.strip()}</p>{item.content}" if text else item.content
        title = f"{text}{item.title}"
        stamps = (timestamp(item.created), timestamp(item.updated))
        if item.is_block:
            row = (item.item_id, title, item.identifier, content, *stamps, item.is_active)
        else:
            row = (
                item.item_id,
                title,
                _PAGE_LAYOUTS[item.i % len(_PAGE_LAYOUTS)],
                f"{item.title_en.lower()}, health, advice",
                f"{item.title}: general information for patients and carers.",
                item.identifier,
                title,
                content,
                *stamps,
                item.is_active,
                item.i,
                f"{title} | Example Health Shop",
            )
        if self.staging:
            row = (version.key, row[0], version.created_in, version.updated_in, *row[1:])
        return row

    def _write_item(self, item: _CmsItem) -> None:
        if self.staging:
            self.rows["sequence_" + item.table].append((item.item_id,))
        for version, version_stores in self._versions(item):
            self.rows[item.table].append(self._row(item, version))
            self.rows[item.table + "_store"].extend((version.key, store_id) for store_id in version_stores)
        self._expect(item)

    def _expect(self, item: _CmsItem) -> None:
        """Count the live item in each store view it reaches; a page gets a URL rewrite there."""
        for store_id, code in STORE_CODES.items():
            if 0 in item.stores or store_id in item.stores:
                self.expected[code][item.table] += 1
                if not item.is_block:
                    self.tables.url_rewrite(
                        "cms-page",
                        item.item_id,
                        item.identifier,
                        f"cms/page/view/page_id/{item.item_id}",
                        store_id,
                    )


def _identifier_and_title(is_block: bool, i: int, title_en: str, title: str, german: bool) -> tuple[str, str]:
    """Identifiers as real stores have them: one shared by two blocks of two store views, a page
    identifier repeated across store views, the home and 404 pages."""
    identifier = f"{slug(title_en)}-{i + 1}"
    if is_block and i in (1, 2):
        identifier = "patient-notice"  # one identifier, two blocks, two store views
    if not is_block and i in (1, 2):
        identifier = "shipping-and-returns"
        title = "Versand und Rückgabe" if german else "Shipping and returns"
    if not is_block and i == 0:
        identifier, title = "home", "Home page"
    if not is_block and i == 3:
        identifier, title = "no-route", "404 Not Found"
    return identifier, title
