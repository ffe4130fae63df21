"""Integrity rules per dataset kind: rows that would corrupt live flows if the dataset reached them.

Django-free. The rules are data (``datasets/rules/integrity.json``, extendable per store); each names a
*check* implemented here, vectorised over the frame:

- ``end_after_start``, ``duration_bounds``: start and end parse as ISO 8601 date-times, the end is later,
  the duration inside the bounds;
- ``no_overlap``: no two rows of the same group (a clinician) have overlapping ``[start, end)`` intervals,
  found by sorting per group and comparing each start with the latest end before it;
- ``test_card_numbers``: a number passing the Luhn check (ISO/IEC 7812-1 Annex B) is one of the published
  test card numbers; anything else Luhn-valid could be a real card;
- ``marker``: every row carries the test marker (so fraud screening can exclude test orders);
- ``no_reference_identifier``: no identifier column value equals one in the reference;
- ``reserved_email_domain``: e-mail addresses at domains reserved for examples (RFC 2606, RFC 6761);
- ``pattern``: every value matches one of the rule's regular expressions (fictional phone ranges);
- ``date_range``: dates parse, none in the future or more than ``max_years_ago`` back;
- ``ordered_per_group``: within each group (a session), timestamps never go back in file order;
- ``opening_hours``: each appointment starts and ends on the same local day inside that weekday's
  opening hours (its clinic's, from the rule's ``clinics`` by a clinic column, else the rule's), in
  the clinic's IANA time zone (a per-row column, else the clinic's, else the rule's); times without a
  UTC offset are the clinic's local time, and one that does not exist there (skipped when the clocks
  go forward) or a zone that is not an IANA name is a finding;
- ``currency_amounts``: the currency is an ISO 4217 code with minor units (the ``iso4217`` package's
  data from the standard's maintenance agency) and the amount is positive and a whole number of that
  currency's minor units (at most 2 decimals for EUR, none for JPY, 3 for BHD), or a positive
  integer when the rule counts in minor units.

``no_reference_identifier`` takes the schema's identifier columns, or the rule's ``value`` column
(a session id) when it names one.

A result names rows by number (1-based, the header not counted) and never carries a row's values; a
card number appears only masked to its last four digits (PCI DSS 3.4).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time as time_of_day
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from iso4217 import Currency

__all__ = [
    "RULES_FILE",
    "MAX_ROWS_LISTED",
    "RuleSet",
    "RulesError",
    "card_digits",
    "first_column",
    "check_integrity",
    "luhn_valid",
    "load_rules",
    "mask_card",
]

RULES_FILE = Path(__file__).with_name("rules") / "integrity.json"
MAX_ROWS_LISTED = 20
CHECKS = (
    "end_after_start",
    "duration_bounds",
    "no_overlap",
    "test_card_numbers",
    "marker",
    "no_reference_identifier",
    "reserved_email_domain",
    "pattern",
    "date_range",
    "ordered_per_group",
    "opening_hours",
    "currency_amounts",
)
# RFC 2606 second-level names and RFC 2606 / RFC 6761 top-level names reserved for examples and tests
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("test", "example", "invalid", "localhost")


class RulesError(ValueError):
    """A rules file that cannot be used."""


@dataclass(frozen=True)
class RuleSet:
    kinds: dict[str, list[dict]]
    test_card_numbers: frozenset[str]
    exclusion_columns: dict[str, list[str]] = field(default_factory=dict)

    def for_kind(self, kind: str) -> list[dict]:
        return self.kinds.get(kind, [])


def load_rules(extra: str | Path | None = None) -> RuleSet:
    """The shipped rules, with a store's ``extra`` file merged in: rules of the same id replace the
    shipped ones, new ids are added, test card numbers are added."""
    kinds, numbers, exclusions = _read_rules(RULES_FILE)
    if extra:
        extra_kinds, extra_numbers, extra_exclusions = _read_rules(Path(extra))
        for kind, rules in extra_kinds.items():
            merged = {rule["id"]: rule for rule in kinds.get(kind, [])}
            merged.update({rule["id"]: rule for rule in rules})
            kinds[kind] = list(merged.values())
        numbers |= extra_numbers
        exclusions.update(extra_exclusions)
    return RuleSet(kinds=kinds, test_card_numbers=frozenset(numbers), exclusion_columns=exclusions)


def _read_rules(path: Path) -> tuple[dict[str, list[dict]], set[str], dict[str, list[str]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RulesError(f"rules file {path}: {exc}") from None
    kinds = data.get("kinds", {}) if isinstance(data, dict) else None
    if not isinstance(kinds, dict):
        raise RulesError(f"rules file {path}: no object 'kinds'")
    for kind, rules in kinds.items():
        if not isinstance(rules, list):
            raise RulesError(f"rules file {path}: kind {kind!r} is not a list of rules")
        for rule in rules:
            if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
                raise RulesError(f"rules file {path}: kind {kind!r} has a rule without an id")
            if rule.get("check") not in CHECKS:
                raise RulesError(
                    f"rules file {path}: rule {rule['id']!r} has unknown check {rule.get('check')!r} "
                    f"(known: {', '.join(CHECKS)})"
                )
            if rule["check"] == "opening_hours":
                _opening_minutes(rule)
                if not _known_zone(str(rule.get("time_zone", "UTC"))):
                    raise RulesError(f"rules file {path}: rule {rule['id']!r} has an unknown time zone")
                _clinic_hours(rule)
    numbers = data.get("test_card_numbers", {}).get("numbers", [])
    exclusions = data.get("fraud_exclusions", {}).get("columns", {})
    if not isinstance(exclusions, dict) or not all(isinstance(v, list) for v in exclusions.values()):
        raise RulesError(f"rules file {path}: fraud_exclusions.columns maps a name to a list of columns")
    return (
        {k: list(v) for k, v in kinds.items()},
        {_digits(str(n)) for n in numbers},
        {k: [str(c) for c in v] for k, v in exclusions.items()},
    )


def luhn_valid(number: str) -> bool:
    """The Luhn check digit of ISO/IEC 7812-1 holds for this string of digits."""
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mask_card(number: str) -> str:
    return f"****{number[-4:]}" if len(number) >= 4 else "****"


def card_digits(text: str) -> str:
    """A card number without the spaces and dashes it is often written with."""
    return text.replace(" ", "").replace("-", "")


_digits = card_digits


def first_column(frame: pd.DataFrame, candidates: str | Iterable[str]) -> str | None:
    names = [candidates] if isinstance(candidates, str) else list(candidates)
    return next((name for name in names if name in frame.columns), None)


def _rows(mask: np.ndarray | pd.Series) -> tuple[int, list[int]]:
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(positions.size), [int(p) + 1 for p in positions[:MAX_ROWS_LISTED]]


def _datetimes(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", utc=True, format="mixed")


def check_integrity(
    frame: pd.DataFrame,
    kind: str,
    *,
    rules: RuleSet,
    identifier_columns: Iterable[str] = (),
    reference: pd.DataFrame | None = None,
) -> tuple[dict, list[dict]]:
    """``(results, findings)`` of the rules of ``kind`` on ``frame`` (as read, not coerced).

    ``results`` maps each rule id to ``{"check", "description", "applicable", "count", "rows"}`` (with
    ``"reason"`` when not applicable); ``findings`` has one entry per rule with rows breaking it:
    ``{"check": "integrity", "rule", "value", "threshold": 0, "rows", "message"}``.
    """
    results: dict[str, dict] = {}
    findings: list[dict] = []
    for rule in rules.for_kind(kind):
        result = {"check": rule["check"], "description": rule.get("description", ""), "applicable": True}
        outcome = _run(frame, rule, rules, list(identifier_columns), reference)
        if isinstance(outcome, str):
            result.update(applicable=False, reason=outcome, count=0, rows=[])
        else:
            mask, extra = outcome
            count, rows = _rows(mask)
            result.update(count=count, rows=rows, **extra)
            if count:
                shown = ", ".join(str(r) for r in rows) + (" …" if count > len(rows) else "")
                findings.append(
                    {
                        "check": "integrity",
                        "rule": rule["id"],
                        "value": count,
                        "threshold": 0,
                        "rows": rows,
                        "message": f"{rule['id']}: {count} row(s) break the rule (rows {shown})",
                    }
                )
        results[rule["id"]] = result
    return results, findings


def _run(frame, rule, rules: RuleSet, identifier_columns, reference):
    """A boolean mask of rows breaking ``rule`` and extra result keys, or why it does not apply."""
    columns = {}
    for role, candidates in rule.get("columns", {}).items():
        name = first_column(frame, candidates)
        if name is None:
            names = [candidates] if isinstance(candidates, str) else candidates
            return f"no {role} column (looked for {', '.join(names)})"
        columns[role] = name
    for role, candidates in rule.get("optional_columns", {}).items():
        if (name := first_column(frame, candidates)) is not None:
            columns[role] = name
    check = rule["check"]
    if check in ("end_after_start", "duration_bounds", "no_overlap"):
        start = _datetimes(frame[columns["start"]])
        end = _datetimes(frame[columns["end"]])
    if check == "end_after_start":
        return (start.isna() | end.isna() | (end <= start)).to_numpy(), {"columns": columns}
    if check == "duration_bounds":
        minutes = (end - start).dt.total_seconds() / 60
        low, high = float(rule.get("min_minutes", 0)), float(rule.get("max_minutes", float("inf")))
        bad = minutes.notna() & ((minutes < low) | (minutes > high))
        return bad.to_numpy(), {"columns": columns, "min_minutes": low, "max_minutes": high}
    if check == "no_overlap":
        return _overlaps(frame[columns["group"]], start, end), {"columns": columns}
    if check == "test_card_numbers":
        return _real_looking_cards(frame[columns["card"]], rules.test_card_numbers)
    if check == "marker":
        accepted = {str(v).lower() for v in rule.get("values", ["1", "true"])}
        values = frame[columns["marker"]].astype(str).str.strip().str.lower()
        return (~values.isin(accepted) | frame[columns["marker"]].isna()).to_numpy(), {"columns": columns}
    if check == "no_reference_identifier":
        if reference is None:
            return "no reference"
        candidates = [columns["value"]] if "value" in columns else identifier_columns
        present = [c for c in candidates if c in frame.columns and c in reference.columns]
        if not present:
            return "no identifier column in both tables"
        bad = np.zeros(len(frame), dtype=bool)
        for name in present:
            known = reference[name].dropna().astype(str).unique()
            bad |= frame[name].astype(str).isin(known).to_numpy() & frame[name].notna().to_numpy()
        return bad, {"columns": {"identifiers": present}}
    if check == "reserved_email_domain":
        values = frame[columns["email"]]
        domain = values.astype(str).str.rsplit("@", n=1).str[-1].str.lower().str.rstrip(".")
        reserved = domain.isin(RESERVED_DOMAINS) | domain.str.endswith(
            tuple("." + d for d in RESERVED_DOMAINS)
        )
        reserved |= domain.str.rsplit(".", n=1).str[-1].isin(RESERVED_TLDS)
        has_at = values.astype(str).str.contains("@", regex=False)
        return (values.notna() & ~(reserved & has_at)).to_numpy(), {"columns": columns}
    if check == "pattern":
        values = frame[columns["value"]]
        text = values.astype(str).str.strip()
        matched = pd.Series(False, index=frame.index)
        for expression in rule.get("patterns", []):
            matched |= text.str.fullmatch(expression)
        return (values.notna() & ~matched).to_numpy(), {"columns": columns}
    if check == "date_range":
        values = frame[columns["value"]]
        parsed = _datetimes(values)
        now = pd.Timestamp.now(tz="UTC")
        earliest = now - pd.DateOffset(years=int(rule.get("max_years_ago", 120)))
        bad = values.notna() & (parsed.isna() | (parsed > now) | (parsed < earliest))
        return bad.to_numpy(), {"columns": columns}
    if check == "ordered_per_group":
        group = frame[columns["group"]].astype(str)
        time = _datetimes(frame[columns["time"]])
        latest = time.groupby(group, sort=False).cummax()  # the latest time so far in each session
        previous = latest.groupby(group, sort=False).shift()
        return (time.isna() | (time < previous)).to_numpy(), {"columns": columns}
    if check == "opening_hours":
        return _outside_opening_hours(frame, columns, rule)
    if check == "currency_amounts":
        return _bad_amounts(frame[columns["currency"]], frame[columns["amount"]], rule)
    return f"unknown check {check!r}"  # pragma: no cover - load_rules refuses these


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFFSET = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


def _opening_minutes(rule: dict) -> tuple[np.ndarray, np.ndarray]:
    """Opening and closing minute of each weekday (Monday first); a closed day opens after it closes."""
    opens, closes = np.full(7, 1, dtype=np.int64), np.zeros(7, dtype=np.int64)
    for day, hours in (rule.get("hours") or {}).items():
        if day not in _WEEKDAYS:
            raise RulesError(f"rule {rule['id']!r}: unknown weekday {day!r} (use {', '.join(_WEEKDAYS)})")
        if hours is None:
            continue
        try:
            start, end = (time_of_day.fromisoformat(value) for value in hours)
        except (TypeError, ValueError):
            raise RulesError(
                f"rule {rule['id']!r}: hours of {day!r} must be ['HH:MM', 'HH:MM'] or null"
            ) from None
        index = _WEEKDAYS.index(day)
        # A day closing at "00:00" is open until midnight.
        opens[index], closes[index] = start.hour * 60 + start.minute, (end.hour * 60 + end.minute) or 24 * 60
    return opens, closes


def _known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _local_times(values: pd.Series, zone: str) -> tuple[pd.Series, np.ndarray]:
    """``values`` as wall-clock times in ``zone`` (with an offset converted, without one taken as
    local; an ambiguous local time as the first of the two) and the rows whose local time does not
    exist there (skipped by a daylight-saving change)."""
    text = values.astype(str).str.strip()
    aware = text.str.contains(_OFFSET, regex=True) & values.notna()
    local = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {zone}]")
    skipped = np.zeros(len(values), dtype=bool)
    if aware.any():
        parsed = pd.to_datetime(text[aware], errors="coerce", utc=True, format="mixed")
        local[aware] = parsed.dt.tz_convert(zone)
    naive = ~aware & values.notna()
    if naive.any():
        parsed = pd.to_datetime(text[naive], errors="coerce", format="mixed")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # pragma: no cover - offsets were routed above
            localised = parsed.dt.tz_convert(zone)
        else:
            first = np.ones(len(parsed), dtype=bool)
            localised = parsed.dt.tz_localize(zone, ambiguous=first, nonexistent="NaT")
        local[naive] = localised
        skipped[np.flatnonzero(naive.to_numpy())] = (parsed.notna() & localised.isna()).to_numpy()
    return local, skipped


def _clinic_hours(rule: dict) -> dict[str, tuple[tuple[np.ndarray, np.ndarray], str]]:
    """Each clinic's ``(opening minutes, time zone)`` from the rule's ``clinics`` (a clinic without
    ``hours`` or ``time_zone`` of its own takes the rule's)."""
    default_zone = str(rule.get("time_zone", "UTC"))
    clinics = rule.get("clinics") or {}
    if not isinstance(clinics, dict):
        raise RulesError(f"rule {rule['id']!r}: clinics maps a clinic id to its hours and time zone")
    out = {}
    for clinic, values in clinics.items():
        if not isinstance(values, dict):
            raise RulesError(f"rule {rule['id']!r}: clinic {clinic!r} must be an object")
        own = {"id": f"{rule['id']}/{clinic}", "hours": values.get("hours", rule.get("hours"))}
        zone = str(values.get("time_zone", default_zone))
        if not _known_zone(zone):
            raise RulesError(f"rule {rule['id']!r}: clinic {clinic!r} has an unknown time zone")
        out[str(clinic)] = (_opening_minutes(own), zone)
    return out


def _outside_opening_hours(frame: pd.DataFrame, columns: dict, rule: dict):
    default_hours = _opening_minutes(rule)
    default_zone = str(rule.get("time_zone", "UTC"))
    clinics = _clinic_hours(rule)
    # Per row: its clinic's hours (the rule's for a clinic not listed), and its time zone column,
    # else its clinic's zone, else the rule's.
    clinic = (
        frame[columns["clinic"]].astype(str).str.strip().where(frame[columns["clinic"]].notna(), "")
        if "clinic" in columns and clinics
        else pd.Series("", index=frame.index)
    )
    hours_key = clinic.where(clinic.isin(list(clinics)), "")
    zone = hours_key.map(lambda key: clinics[key][1] if key else default_zone)
    if "time_zone" in columns:
        own = frame[columns["time_zone"]]
        zone = own.astype(str).str.strip().where(own.notna(), zone)
    bad = np.zeros(len(frame), dtype=bool)
    unknown: set[str] = set()
    for (key, name), index in (
        pd.DataFrame({"key": hours_key, "zone": zone}).groupby(["key", "zone"]).groups.items()
    ):
        rows = frame.index.isin(index)
        if not _known_zone(name):
            unknown.add(name)
            bad |= rows
            continue
        opens, closes = clinics[key][0] if key else default_hours
        start, start_skipped = _local_times(frame.loc[rows, columns["start"]], name)
        end, end_skipped = _local_times(frame.loc[rows, columns["end"]], name)
        known = (start.notna() & end.notna()).to_numpy()  # unparsable times are end_after_start's findings
        day = start.dt.weekday.fillna(0).astype(int).to_numpy()
        start_minute = (start.dt.hour * 60 + start.dt.minute).fillna(0).to_numpy()
        end_minute = (end.dt.hour * 60 + end.dt.minute + (end.dt.second > 0)).fillna(0).to_numpy()
        midnight = (end.dt.normalize() == start.dt.normalize() + pd.Timedelta(days=1)) & (end_minute == 0)
        end_minute = np.where(midnight.to_numpy(), 24 * 60, end_minute)
        same_day = ((end.dt.normalize() == start.dt.normalize()) | midnight).to_numpy()
        outside = (
            ~same_day | (start_minute < opens[day]) | (end_minute > closes[day]) | (opens[day] >= closes[day])
        )
        bad[np.flatnonzero(rows)] |= (known & outside) | start_skipped | end_skipped
    extra = {"columns": columns, "time_zone": default_zone, "unknown_time_zones": len(unknown)}
    if clinics:
        extra["clinics"] = len(clinics)
    return bad, extra


def _minor_units(code: str) -> int | None:
    """The ISO 4217 minor units (exponent) of an alphabetic code, any letter case; ``None`` for an
    unknown code or one without minor units (funds, precious metals, XXX)."""
    try:
        return Currency(code.strip().upper()).exponent
    except ValueError:
        return None


def _decimals(text: str) -> int | None:
    """How many decimals the positive amount ``text`` needs; ``None`` when it is not one."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number <= 0:
        return None
    return max(0, -number.normalize().as_tuple().exponent)


def _bad_amounts(currency: pd.Series, amount: pd.Series, rule: dict):
    in_minor = rule.get("amount_in", "major") == "minor"
    codes = currency.astype(str)
    exponents = {code: _minor_units(code) for code in codes[currency.notna()].unique()}
    exponent = codes.map(exponents).where(currency.notna())
    bad_currency = exponent.isna().to_numpy()
    text = amount.astype(str)
    places = text.map({value: _decimals(value) for value in text.unique()}).where(amount.notna())
    allowed = 0 if in_minor else exponent.fillna(0).astype(int)
    bad_amount = (places.isna() | (places.fillna(0).astype(int) > allowed)).to_numpy()
    extra = {
        "columns": {"currency": currency.name, "amount": amount.name},
        "amount_in": "minor" if in_minor else "major",
        "unknown_currency_codes": sum(units is None for units in exponents.values()),
    }
    return bad_currency | bad_amount, extra


def _overlaps(group: pd.Series, start: pd.Series, end: pd.Series) -> np.ndarray:
    """Rows whose interval starts before the latest end of an earlier-starting row of the same group
    (the later row of each overlapping pair)."""
    table = pd.DataFrame({"group": group.astype(str), "start": start, "end": end}).dropna()
    table = table[group.loc[table.index].notna()]
    if table.empty:
        return np.zeros(len(group), dtype=bool)
    table = table.sort_values(["group", "start", "end"], kind="stable")
    latest_end = table.groupby("group", sort=False)["end"].cummax()
    previous = latest_end.groupby(table["group"], sort=False).shift()
    flagged = table.index[(table["start"] < previous).to_numpy()]
    mask = np.zeros(len(group), dtype=bool)
    mask[group.index.get_indexer(flagged)] = True
    return mask


def _real_looking_cards(series: pd.Series, test_numbers: frozenset[str]):
    digits = series.dropna().astype(str).map(_digits)
    unique = digits.unique()
    real_looking = {n for n in unique if 12 <= len(n) <= 19 and n not in test_numbers and luhn_valid(n)}
    bad = series.index.isin(digits.index[digits.isin(real_looking)])
    masked = sorted({mask_card(n) for n in real_looking})[:MAX_ROWS_LISTED]
    return bad, {"masked_numbers": masked}
