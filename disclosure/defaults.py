"""The default wording of the badges, written for shoppers of a health store, in plain language.

Used when a store view has no policy version of its own, and written as version 1 of every policy
by ``manage.py disclosure_defaults`` so staff can edit it. Keys: language, surface, kind.

Images and CMS content carry the label texts of the EU Code of Practice on marking and labelling
AI-generated content (June 2026, Section 2): "AI-generated" for content made by AI (IPTC
``trainedAlgorithmicMedia``) and "AI-modified" for real content changed with AI (IPTC
``compositeWithTrainedAlgorithmicMedia`` and the other edit terms); in German "KI-generiert" and
"KI-verändert". Labels stay short so that they fit, as visible text, on a thumbnail.
"""

from __future__ import annotations

LEARN_MORE_URL = ""

_EN = {
    ("product_image", "generated"): (
        "AI-generated",
        "This picture was made with artificial intelligence (AI) to illustrate the product. It may not "
        "show the real product exactly. Check the product details and the package leaflet before use.",
    ),
    ("product_image", "edited"): (
        "AI-modified",
        "This photo was changed with artificial intelligence (AI), for example to adjust the background. "
        "The product itself is shown as it is. Check the product details before use.",
    ),
    ("product_image", "suspected"): (
        "May be AI-generated",
        "This picture may have been made or changed with artificial intelligence (AI). We are checking "
        "it. Check the product details and the package leaflet before use.",
    ),
    ("cms_block", "generated"): (
        "AI-assisted text",
        "This text was written with the help of artificial intelligence (AI) and checked by our team. "
        "It is general information, not medical advice. Ask your doctor or pharmacist about your health.",
    ),
    ("cms_block", "edited"): (
        "AI-modified",
        "This text was edited with the help of artificial intelligence (AI). It is general information, "
        "not medical advice. Ask your doctor or pharmacist about your health.",
    ),
    ("cms_block", "suspected"): (
        "May be AI-written",
        "This text may have been written with artificial intelligence (AI). We are checking it. It is "
        "not medical advice.",
    ),
    ("cms_page", "generated"): (
        "AI-assisted page",
        "This page was written with the help of artificial intelligence (AI) and checked by our team. "
        "It is general information, not medical advice. Ask your doctor or pharmacist about your health.",
    ),
    ("cms_page", "edited"): (
        "AI-modified",
        "This page was edited with the help of artificial intelligence (AI). It is general information, "
        "not medical advice.",
    ),
    ("cms_page", "suspected"): (
        "May be AI-written",
        "This page may have been written with artificial intelligence (AI). We are checking it. It is "
        "not medical advice.",
    ),
    ("recommendation", "generated"): (
        "AI recommendations",
        "These suggestions were chosen by an automated system (AI) from what other shoppers viewed. "
        "They are not medical advice. Ask your pharmacist which product is right for you.",
    ),
    ("recommendation", "edited"): (
        "AI-assisted recommendations",
        "These suggestions were chosen with the help of an automated system (AI). They are not medical "
        "advice.",
    ),
    ("recommendation", "suspected"): (
        "May be AI recommendations",
        "These suggestions may have been chosen by an automated system (AI). They are not medical advice.",
    ),
}

_DE = {
    ("product_image", "generated"): (
        "KI-generiert",
        "Dieses Bild wurde mit künstlicher Intelligenz (KI) erstellt, um das Produkt zu veranschaulichen. "
        "Es zeigt das echte Produkt vielleicht nicht genau. Lesen Sie vor der Anwendung die "
        "Produktangaben und die Packungsbeilage.",
    ),
    ("product_image", "edited"): (
        "KI-verändert",
        "Dieses Foto wurde mit künstlicher Intelligenz (KI) verändert, zum Beispiel der Hintergrund. "
        "Das Produkt selbst ist so gezeigt, wie es ist. Lesen Sie vor der Anwendung die Produktangaben.",
    ),
    ("product_image", "suspected"): (
        "Möglicherweise KI-generiert",
        "Dieses Bild wurde möglicherweise mit künstlicher Intelligenz (KI) erstellt oder verändert. Wir "
        "prüfen das. Lesen Sie vor der Anwendung die Produktangaben und die Packungsbeilage.",
    ),
    ("cms_block", "generated"): (
        "Mit KI verfasst",
        "Dieser Text wurde mit Hilfe künstlicher Intelligenz (KI) geschrieben und von unserem Team "
        "geprüft. Er ist eine allgemeine Information und ersetzt keine ärztliche Beratung.",
    ),
    ("cms_block", "edited"): (
        "KI-verändert",
        "Dieser Text wurde mit Hilfe künstlicher Intelligenz (KI) bearbeitet. Er ersetzt keine ärztliche "
        "Beratung.",
    ),
    ("cms_block", "suspected"): (
        "Möglicherweise mit KI verfasst",
        "Dieser Text wurde möglicherweise mit künstlicher Intelligenz (KI) geschrieben. Wir prüfen das. "
        "Er ersetzt keine ärztliche Beratung.",
    ),
    ("cms_page", "generated"): (
        "Mit KI verfasste Seite",
        "Diese Seite wurde mit Hilfe künstlicher Intelligenz (KI) geschrieben und von unserem Team "
        "geprüft. Sie ist eine allgemeine Information und ersetzt keine ärztliche Beratung.",
    ),
    ("cms_page", "edited"): (
        "KI-verändert",
        "Diese Seite wurde mit Hilfe künstlicher Intelligenz (KI) bearbeitet. Sie ersetzt keine "
        "ärztliche Beratung.",
    ),
    ("cms_page", "suspected"): (
        "Möglicherweise mit KI verfasst",
        "Diese Seite wurde möglicherweise mit künstlicher Intelligenz (KI) geschrieben. Wir prüfen das.",
    ),
    ("recommendation", "generated"): (
        "KI-Empfehlungen",
        "Diese Vorschläge hat ein automatisches System (KI) ausgewählt. Sie sind keine ärztliche "
        "Beratung. Fragen Sie in Ihrer Apotheke, welches Produkt für Sie passt.",
    ),
    ("recommendation", "edited"): (
        "KI-gestützte Empfehlungen",
        "Diese Vorschläge wurden mit Hilfe eines automatischen Systems (KI) ausgewählt. Sie sind keine "
        "ärztliche Beratung.",
    ),
    ("recommendation", "suspected"): (
        "Möglicherweise KI-Empfehlungen",
        "Diese Vorschläge wurden möglicherweise von einem automatischen System (KI) ausgewählt.",
    ),
}

TEXTS = {"en": _EN, "de": _DE}


def default_text(locale: str, surface: str, kind: str) -> tuple[str, str]:
    """(label, explanation) for a locale such as ``de_DE``; English when the language is unknown."""
    language = locale.split("_")[0].split("-")[0].lower()
    return TEXTS.get(language, _EN)[(surface, kind)]
