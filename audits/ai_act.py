"""EU AI Act (Regulation (EU) 2024/1689) classification of a generator in one use case.

A questionnaire following Art. 6(1) with Annex I (MDR 2017/745 / IVDR 2017/746 devices needing a
notified body; MDR Annex VIII Rule 11 for software informing diagnosis or therapy), Art. 6(2) with the
health-relevant Annex III points 5(a), 5(c) and 5(d), the Art. 6(3) exemptions (never when the system
profiles natural persons) and Art. 50 transparency duties of providers and deployers. Django-free:
answers in, a risk class, obligations with article references and a rationale out. Guidance for
compliance staff, not legal advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

__all__ = [
    "MILESTONES",
    "QUESTIONS",
    "SECTIONS",
    "Milestone",
    "Outcome",
    "Question",
    "RiskClass",
    "classify",
    "milestones_with",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_OMNIBUS = (
    "Digital Omnibus on AI amending Regulation (EU) 2024/1689 (proposed 19 Nov 2025, provisional "
    "agreement 7 May 2026, adopted by the Council 29 Jun 2026; confirm the Official Journal reference "
    "before quoting)"
)


@dataclass(frozen=True)
class Milestone:
    """A date from which a group of AI Act obligations applies, and where that date comes from."""

    key: str
    provision: str
    applies_from: date
    source: str

    def label(self) -> str:
        """``2 Aug 2026``: the date as the Act and the Omnibus write it."""
        month = _MONTHS[self.applies_from.month - 1]
        return f"{self.applies_from.day} {month} {self.applies_from.year}"


# The application dates as amended by the Digital Omnibus (Regulation (EU) 2024/1689, Art. 113 as
# amended). Each can be overridden in settings (PROVENANT_AI_ACT_*), e.g. once the Official Journal
# publication differs; see :func:`milestones_with`.
MILESTONES: tuple[Milestone, ...] = (
    Milestone(
        "art50",
        "Art. 50 transparency obligations (providers and deployers)",
        date(2026, 8, 2),
        "Regulation (EU) 2024/1689, Art. 113(a), unchanged by the " + _OMNIBUS,
    ),
    Milestone(
        "art50_2_existing",
        "Art. 50(2) marking, for generative systems placed on the market before 2 Aug 2026",
        date(2026, 12, 2),
        _OMNIBUS + ": transitional period for systems already on the market",
    ),
    Milestone(
        "annex_iii",
        "High-risk obligations for Annex III systems (Art. 6(2))",
        date(2027, 12, 2),
        _OMNIBUS + ": moved from 2 Aug 2026",
    ),
    Milestone(
        "annex_i",
        "High-risk obligations for Annex I products (Art. 6(1), e.g. MDR/IVDR devices)",
        date(2028, 8, 2),
        _OMNIBUS + ": moved from 2 Aug 2027",
    ),
)


def milestones_with(overrides: Mapping[str, date | None] | None = None) -> dict[str, Milestone]:
    """The milestones by key, with the dates in ``overrides`` (key → date; ``None`` keeps the
    built-in date) in place of the built-in ones; an overridden date names the setting as its source."""
    known = {m.key: m for m in MILESTONES}
    unknown = set(overrides or {}) - set(known)
    if unknown:
        raise ValueError(f"unknown AI Act milestones: {sorted(unknown)}")
    for key, when in (overrides or {}).items():
        if when is not None and when != known[key].applies_from:
            known[key] = replace(
                known[key],
                applies_from=when,
                source=(
                    f"set in this installation's settings (built-in: {known[key].label()}, "
                    f"{known[key].source})"
                ),
            )
    return known


class RiskClass:
    HIGH_ANNEX_I = "high_annex_i"
    HIGH_ANNEX_III = "high_annex_iii"
    ANNEX_III_EXEMPT = "annex_iii_exempt"
    TRANSPARENCY = "transparency"
    MINIMAL = "minimal"

    CHOICES = [
        (HIGH_ANNEX_I, "High-risk (Art. 6(1), Annex I product)"),
        (HIGH_ANNEX_III, "High-risk (Art. 6(2), Annex III)"),
        (ANNEX_III_EXEMPT, "Annex III use, not high-risk under Art. 6(3)"),
        (TRANSPARENCY, "Transparency obligations (Art. 50)"),
        (MINIMAL, "Minimal risk"),
    ]
    LABELS = dict(CHOICES)
    # Higher ranks first in queues and on the dashboard.
    RANK = {HIGH_ANNEX_I: 4, HIGH_ANNEX_III: 4, ANNEX_III_EXEMPT: 3, TRANSPARENCY: 2, MINIMAL: 1}


@dataclass(frozen=True)
class Question:
    key: str
    section: str
    text: str
    reference: str
    help: str = ""


SECTIONS = [
    ("role", "Your role for this system"),
    ("art6_1", "Art. 6(1): product under Annex I (medical devices)"),
    ("annex3", "Art. 6(2) and Annex III: health-relevant uses"),
    ("art6_3", "Art. 6(3): exemptions for Annex III systems"),
    ("art50", "Art. 50: transparency"),
]

QUESTIONS = [
    Question(
        "provider",
        "role",
        "We develop this system or have it developed and put it into service under our name.",
        "Art. 3(3)",
        "A store running its own generator is its provider.",
    ),
    Question(
        "deployer",
        "role",
        "We use this system's output in our store under our authority.",
        "Art. 3(4)",
        "A store publishing generated images or text is a deployer.",
    ),
    Question(
        "medical_device",
        "art6_1",
        "The system is a medical device or in-vitro diagnostic (or a "
        "safety component of one) under the MDR or IVDR.",
        "Art. 6(1)(a), Annex I §11-12",
    ),
    Question(
        "informs_diagnosis",
        "art6_1",
        "Its output informs decisions for diagnosis or therapy of patients.",
        "MDR Annex VIII Rule 11",
        "Rule 11 makes such software class IIa or higher.",
    ),
    Question(
        "notified_body",
        "art6_1",
        "The product needs a third-party (notified body) conformity assessment.",
        "Art. 6(1)(b)",
    ),
    Question(
        "annex3_5a",
        "annex3",
        "Public authorities use it to decide eligibility for essential "
        "public services, including healthcare.",
        "Annex III 5(a)",
    ),
    Question(
        "annex3_5c",
        "annex3",
        "It is used for risk assessment and pricing in life or health insurance.",
        "Annex III 5(c)",
    ),
    Question(
        "annex3_5d",
        "annex3",
        "It evaluates or classifies emergency calls or triages patients in emergency healthcare.",
        "Annex III 5(d)",
    ),
    Question("narrow_procedural", "art6_3", "It only performs a narrow procedural task.", "Art. 6(3)(a)"),
    Question(
        "improves_human",
        "art6_3",
        "It only improves the result of a previously completed human activity.",
        "Art. 6(3)(b)",
    ),
    Question(
        "detects_patterns",
        "art6_3",
        "It only detects decision patterns or deviations, without "
        "replacing or influencing the human assessment.",
        "Art. 6(3)(c)",
    ),
    Question(
        "preparatory", "art6_3", "It only performs a preparatory task to an assessment.", "Art. 6(3)(d)"
    ),
    Question(
        "profiling",
        "art6_3",
        "It profiles natural persons.",
        "Art. 6(3) last subparagraph",
        "Profiling overrides every Art. 6(3) exemption.",
    ),
    Question("interacts", "art50", "People interact with it directly (chat, assistant).", "Art. 50(1)"),
    Question(
        "generates_synthetic", "art50", "It generates synthetic images, audio, video or text.", "Art. 50(2)"
    ),
    Question(
        "assistive_only",
        "art50",
        "It only assists standard editing or does not substantially change the input.",
        "Art. 50(2) exemption",
    ),
    Question(
        "deep_fake",
        "art50",
        "Its images, audio or video resemble existing persons, objects, places "
        "or events and could falsely appear authentic (deep fake).",
        "Art. 50(4)",
    ),
    Question(
        "public_interest_text",
        "art50",
        "Its text is published to inform the public on matters of public interest (e.g. patient education).",
        "Art. 50(4)",
    ),
    Question(
        "editorial_review",
        "art50",
        "That text is human-reviewed and a person holds editorial responsibility.",
        "Art. 50(4) exemption",
    ),
]
QUESTION_KEYS = [q.key for q in QUESTIONS]


@dataclass
class Outcome:
    risk_class: str
    obligations: list[dict] = field(default_factory=list)
    rationale: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return RiskClass.LABELS[self.risk_class]


def _yes(answers: dict, key: str) -> bool:
    return answers.get(key) is True


_HIGH_RISK_DUTIES = [
    ("Art. 9", "Risk management system over the whole lifecycle."),
    ("Art. 10", "Data governance for training, validation and test data."),
    ("Art. 11, Annex IV", "Technical documentation (nine sections), kept 10 years (Art. 18)."),
    ("Art. 12", "Automatic logging; keep logs at least six months (Art. 19, 26(6))."),
    ("Art. 13", "Instructions for use and transparency to deployers."),
    ("Art. 14", "Human oversight measures."),
    ("Art. 15", "Accuracy, robustness and cybersecurity."),
    ("Art. 43, 47, 48", "Conformity assessment, EU declaration of conformity, CE marking."),
    ("Art. 72, 73", "Post-market monitoring; report serious incidents within 15/10/2 days."),
]


@dataclass
class _Findings:
    """Obligations and rationale lines, in the order the steps of :func:`classify` find them."""

    obligations: list[dict] = field(default_factory=list)
    rationale: list[str] = field(default_factory=list)

    def oblige(self, article: str, text: str) -> None:
        self.obligations.append({"article": article, "text": text})

    def note(self, line: str) -> None:
        self.rationale.append(line)


def classify(answers: dict, *, milestones: Mapping[str, Milestone] | None = None) -> Outcome:
    """The risk class, obligations (``{"article", "text"}``) and rationale lines for ``answers``.

    ``answers`` maps question keys to ``True``/``False``; missing keys count as "no". The dates the
    obligations cite come from ``milestones`` (by key, see :func:`milestones_with`), else the
    built-in :data:`MILESTONES`.
    """
    dates = dict(milestones or milestones_with())
    unknown = set(answers) - set(QUESTION_KEYS)
    if unknown:
        raise ValueError(f"unknown questions: {sorted(unknown)}")
    a = {k: _yes(answers, k) for k in QUESTION_KEYS}
    found = _Findings()
    risk = _article_6_risk(a, found)
    if risk in (RiskClass.HIGH_ANNEX_I, RiskClass.HIGH_ANNEX_III):
        _high_risk_duties(a, found, dates["annex_i" if risk == RiskClass.HIGH_ANNEX_I else "annex_iii"])
    if _article_50_duties(a, found, dates):
        found.oblige(
            "Art. 50(5)",
            "Clear, distinguishable, accessible information at the latest at first "
            f"exposure (applies from {dates['art50'].label()}; fines up to €15M or 3%, Art. 99(4)).",
        )
        if risk == RiskClass.MINIMAL:
            risk = RiskClass.TRANSPARENCY
        found.note("Art. 50 transparency duties apply (see obligations).")
    if not a["provider"] and not a["deployer"]:
        found.note("Neither provider nor deployer was answered: check the role questions.")
    return Outcome(risk_class=risk, obligations=found.obligations, rationale=found.rationale)


def _article_6_risk(a: dict[str, bool], found: _Findings) -> str:
    """Art. 6: high-risk through Annex I (6(1)) or Annex III (6(2)) unless an Art. 6(3) exemption
    applies without profiling; otherwise minimal (before Art. 50)."""
    annex_iii = [p for p in ("annex3_5a", "annex3_5c", "annex3_5d") if a[p]]
    exemptions = [
        p for p in ("narrow_procedural", "improves_human", "detects_patterns", "preparatory") if a[p]
    ]
    if a["medical_device"] and (a["notified_body"] or a["informs_diagnosis"]):
        why = "needs a notified body" if a["notified_body"] else "informs diagnosis or therapy (MDR Rule 11)"
        found.note(f"Art. 6(1): a medical device under the MDR/IVDR that {why}: high-risk.")
        return RiskClass.HIGH_ANNEX_I
    if annex_iii and (not exemptions or a["profiling"]):
        points = ", ".join(p.replace("annex3_", "Annex III ") for p in annex_iii)
        if exemptions and a["profiling"]:
            found.note(
                f"Art. 6(2): listed in {points}; the Art. 6(3) exemptions do not apply because "
                "the system profiles natural persons."
            )
        else:
            found.note(f"Art. 6(2): listed in {points} and no Art. 6(3) exemption applies: high-risk.")
        return RiskClass.HIGH_ANNEX_III
    if annex_iii:
        found.note(
            "Art. 6(3): listed in Annex III but only "
            + ", ".join(e.replace("_", " ") for e in exemptions)
            + ", without profiling: not high-risk."
        )
        found.oblige(
            "Art. 6(4)", "Document this assessment before placing on the market or putting into service."
        )
        found.oblige("Art. 49(2)", "Register the system in the EU database.")
        return RiskClass.ANNEX_III_EXEMPT
    found.note("No Annex I product and no Annex III use: not high-risk.")
    return RiskClass.MINIMAL


def _high_risk_duties(a: dict[str, bool], found: _Findings, applies: Milestone) -> None:
    """Chapter III duties of a high-risk system (Art. 9-15, 43-48, 72-73; Art. 26 for deployers)."""
    for article, text in _HIGH_RISK_DUTIES:
        found.oblige(article, text)
    if a["deployer"]:
        found.oblige(
            "Art. 26", "Deployer duties: use per instructions, oversight, monitoring, log retention."
        )
    found.note(
        f"These obligations apply from {applies.label()} ({applies.provision}; source: {applies.source})."
    )


def _article_50_duties(a: dict[str, bool], found: _Findings, dates: Mapping[str, Milestone]) -> bool:
    """Art. 50(1), (2) and (4) transparency duties of providers and deployers; True when any applies."""
    transparency = False
    if a["interacts"] and a["provider"]:
        transparency = True
        found.oblige("Art. 50(1)", "Tell people they are interacting with an AI system, unless obvious.")
    if a["generates_synthetic"] and a["provider"]:
        if a["assistive_only"]:
            found.note("Art. 50(2): assistive editing only, so output marking is not required.")
        else:
            transparency = True
            found.oblige(
                "Art. 50(2)",
                "Mark outputs in a machine-readable format, detectable as AI-generated "
                "(C2PA manifest, IPTC digital source type); applies from "
                f"{dates['art50'].label()}, for systems on the market before then from "
                f"{dates['art50_2_existing'].label()}.",
            )
    if a["deployer"] and a["deep_fake"]:
        transparency = True
        found.oblige("Art. 50(4)", "Disclose that the image, audio or video is a deep fake.")
    if a["deployer"] and a["public_interest_text"]:
        if a["editorial_review"]:
            found.note(
                "Art. 50(4): public-interest text is human-reviewed under editorial "
                "responsibility, so disclosure is not required (keep evidence of review)."
            )
        else:
            transparency = True
            found.oblige("Art. 50(4)", "Disclose that public-interest text is AI-generated or manipulated.")
    if a["deployer"] and a["generates_synthetic"] and not transparency:
        found.note(
            "Deployer of synthetic content: disclose it anyway as good practice (storefront "
            "badge), even where Art. 50 does not require it."
        )
    return transparency
