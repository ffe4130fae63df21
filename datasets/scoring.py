"""Fidelity, diagnostics, privacy and bias of a synthetic table against a reference table.

Django-free. Fidelity and diagnostics are SDMetrics' QualityReport (Column Shapes by KSComplement /
TVComplement, Column Pair Trends by CorrelationSimilarity / ContingencySimilarity) and
DiagnosticReport (BoundaryAdherence, CategoryAdherence, KeyUniqueness, TableStructure); privacy is
SDMetrics' DCRBaselineProtection with its subsampling and DisclosureProtectionEstimate (a CAP attack from
the quasi-identifiers on the sensitive columns, on subsamples), plus exact copies of reference rows
found by hashing rows (no pairwise comparison); bias compares each sensitive attribute's group shares,
and with a column of role ``target`` each group's outcome rate and SDMetrics' EqualizedOddsImprovement
(XGBoost classifiers trained on real and on synthetic rows, judged on a held-out 30% of the
reference; the ``xgboost`` package). SDMetrics gets copies of the frames: it has modified callers'
frames before.

The result holds scores and aggregates only, never a reference row. Groups with fewer than
``SMALL_GROUP`` reference rows are pooled so their shares cannot single anyone out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SMALL_GROUP",
    "SchemaError",
    "Thresholds",
    "coerce_frame",
    "infer_schema",
    "score_tables",
    "sdmetrics_version",
]

SMALL_GROUP = 5
MAX_GROUPS = 50
SMALL_GROUPS_LABEL = "(small groups)"
MISSING_LABEL = "(missing)"
_TABLE = "dataset"
_MIN_ID_ROWS = 20
_ROLES = (
    "identifier",
    "quasi_identifier",
    "sensitive",
    "target",
    "datetime",
    "categorical",
    "numerical",
)
_SDTYPES = ("id", "numerical", "categorical", "datetime", "boolean")


class SchemaError(ValueError):
    """The schema does not fit the data (unknown role, column missing from a table)."""


@dataclass(frozen=True)
class Thresholds:
    """Above (or below, for fidelity) these a report has a finding."""

    exact_copies: int = 0
    fidelity: float = 0.8
    group_difference: float = 0.05
    dcr_protection: float = 0.2
    version: int | None = None  # the stored threshold set's version; None for these defaults

    def as_dict(self) -> dict:
        return {
            "exact_copies": self.exact_copies,
            "fidelity": self.fidelity,
            "group_difference": self.group_difference,
            "dcr_protection": self.dcr_protection,
            "version": self.version,
        }


DEFAULT_THRESHOLDS = Thresholds()


def sdmetrics_version() -> str:
    from importlib.metadata import version

    return version("sdmetrics")


def infer_schema(frame: pd.DataFrame, declared: dict[str, str] | None = None) -> dict:
    """``{"columns": [{"name", "role", "sdtype"}]}`` for ``frame``; ``declared`` maps a column to
    its role. Undeclared columns are numerical when every value parses as a number, datetime when
    every value parses as an ISO 8601 date, identifiers when (from 20 rows on) every row holds its
    own text value, categorical otherwise."""
    declared = dict(declared or {})
    unknown = sorted(set(declared) - {str(c) for c in frame.columns})
    if unknown:
        raise SchemaError(f"the schema names columns the file does not have: {', '.join(unknown)}")
    columns = []
    for name in frame.columns:
        name = str(name)
        role = declared.get(name)
        if role is not None and role not in _ROLES:
            raise SchemaError(f"column {name!r}: unknown role {role!r} (known: {', '.join(_ROLES)})")
        sdtype = _sdtype_for(frame[name], role)
        inferred = {"id": "identifier"}.get(sdtype, sdtype)
        columns.append({"name": name, "role": role or inferred, "sdtype": sdtype})
    return {"columns": columns}


def _sdtype_for(series: pd.Series, role: str | None) -> str:
    if role == "identifier":
        return "id"
    if role in ("datetime", "categorical", "numerical"):
        return role
    values = series.dropna()
    if values.empty:
        return "categorical"
    if pd.api.types.is_bool_dtype(values):
        return "categorical"
    if pd.api.types.is_numeric_dtype(values) or pd.to_numeric(values, errors="coerce").notna().all():
        return "numerical"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    text = values.astype(str)
    if text.str.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?").all():
        return "datetime"
    if role is None and len(values) >= _MIN_ID_ROWS and values.is_unique and len(values) == len(series):
        return "id"  # every row its own text value: a key, which no distribution comparison fits
    return "categorical"


def coerce_frame(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """A new frame of the schema's columns, in order, each as its sdtype: numbers as float, dates as
    UTC-naive datetimes, everything else as text. Raises :class:`SchemaError` for a missing column."""
    names = [c["name"] for c in schema["columns"]]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise SchemaError(f"columns missing: {', '.join(missing)}")
    out = {}
    for column in schema["columns"]:
        series = frame[column["name"]]
        sdtype = column["sdtype"]
        if sdtype == "numerical":
            out[column["name"]] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif sdtype == "datetime":
            parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
            out[column["name"]] = parsed.dt.tz_localize(None)
        else:
            out[column["name"]] = series.astype(str).astype(object).where(series.notna(), None)
    return pd.DataFrame(out)


def _metadata(schema: dict) -> dict:
    columns = {c["name"]: {"sdtype": c["sdtype"]} for c in schema["columns"]}
    table: dict = {"columns": columns}
    keys = [c["name"] for c in schema["columns"] if c["sdtype"] == "id"]
    if keys:
        table["primary_key"] = keys[0]
    return table


@dataclass
class _Result:
    scores: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)


def score_tables(
    synthetic: pd.DataFrame,
    reference: pd.DataFrame,
    schema: dict,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    dcr_rows: int = 2000,
    dcr_iterations: int = 3,
    band_width: float = 10.0,
) -> tuple[dict, list[dict]]:
    """``(scores, findings)`` of ``synthetic`` against ``reference``, both already coerced with
    :func:`coerce_frame`. ``findings`` lists each threshold breached, as
    ``{"check", "value", "threshold", "message"}``."""
    from sdmetrics.reports import DiagnosticReport, QualityReport
    from sdmetrics.single_table import DCRBaselineProtection

    table = _metadata(schema)
    metadata = {"tables": {_TABLE: table}}
    scores: dict = {
        "rows": {"synthetic": len(synthetic), "reference": len(reference)},
        "reference_rows_kept": False,
        "thresholds": thresholds.as_dict(),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SDMetrics warns per column about things the scores show
        quality = QualityReport()
        quality.generate({_TABLE: reference.copy()}, {_TABLE: synthetic.copy()}, metadata, verbose=False)
        diagnostic = DiagnosticReport()
        diagnostic.generate({_TABLE: reference.copy()}, {_TABLE: synthetic.copy()}, metadata, verbose=False)
        dcr_subsample = min(dcr_rows, len(synthetic), len(reference))
        dcr = DCRBaselineProtection.compute_breakdown(
            reference.copy(),
            synthetic.copy(),
            table,
            None,
            num_rows_subsample=dcr_subsample if dcr_subsample < len(synthetic) else None,
            num_iterations=dcr_iterations if dcr_subsample < len(synthetic) else 1,
        )
    scores["quality"] = {
        "score": _number(quality.get_score()),
        "properties": _properties(quality),
        "column_shapes": [
            {"column": r["Column"], "metric": r["Metric"], "score": _number(r["Score"])}
            for r in quality.get_details("Column Shapes").to_dict("records")
        ],
        "column_pair_trends": [
            {
                "columns": [r["Column 1"], r["Column 2"]],
                "metric": r["Metric"],
                "score": _number(r["Score"]),
            }
            for r in quality.get_details("Column Pair Trends").to_dict("records")
        ],
    }
    scores["diagnostic"] = {
        "score": _number(diagnostic.get_score()),
        "properties": _properties(diagnostic),
        "data_validity": [
            {"column": r["Column"], "metric": r["Metric"], "score": _number(r["Score"])}
            for r in diagnostic.get_details("Data Validity").to_dict("records")
        ],
    }
    copies = _exact_copies(synthetic, reference, schema)
    scores["privacy"] = {
        "exact_copies": copies,
        "dcr_baseline_protection": {
            "score": _number(dcr["score"]),
            "median_dcr_synthetic": _number(dcr["median_DCR_to_real_data"]["synthetic_data"]),
            "median_dcr_random": _number(dcr["median_DCR_to_real_data"]["random_data_baseline"]),
            "rows_subsampled": dcr_subsample,
            "iterations": dcr_iterations if dcr_subsample < len(synthetic) else 1,
        },
    }
    scores["privacy"]["disclosure_protection"] = _disclosure_protection(
        synthetic, reference, schema, rows=dcr_rows, iterations=dcr_iterations
    )
    scores["bias"] = {
        column["name"]: _group_shares(
            synthetic[column["name"]], reference[column["name"]], column, band_width
        )
        for column in schema["columns"]
        if column["role"] == "sensitive"
    }
    outcomes = _outcomes(synthetic, reference, schema, band_width)
    if outcomes is not None:
        scores["outcomes"] = outcomes
    return scores, _findings(scores, thresholds)


_HOLDOUT_SHARE = 0.3
_POSITIVE_PAIRS = ({"0", "1"}, {"false", "true"}, {"no", "yes"}, {"n", "y"})


def _labels(series: pd.Series) -> pd.Series:
    """A target's values as text labels (1.0 and 1 are both "1"), missing values kept missing."""

    def label(value: object) -> object:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return series.map(label).astype(object)


def _positive_label(labels: pd.Series, column: dict) -> str | None:
    """The declared ``positive_label``, the true side of a yes/no target, else the rarer outcome."""
    if column.get("positive_label") is not None:
        return str(column["positive_label"])
    counts = labels.dropna().value_counts()
    if counts.empty:
        return None
    for pair in _POSITIVE_PAIRS:
        if {str(v).lower() for v in counts.index} <= pair and len(counts) == 2:
            positive = sorted(pair)[1]  # "1", "true", "yes", "y"
            return next(v for v in counts.index if str(v).lower() == positive)
    return str(sorted(counts.items(), key=lambda item: (item[1], str(item[0])))[0][0])


def _outcomes(
    synthetic: pd.DataFrame, reference: pd.DataFrame, schema: dict, band_width: float
) -> dict | None:
    """With a ``target`` column: per sensitive attribute, each group's rate of the positive outcome
    in synthetic and reference rows, and SDMetrics' EqualizedOddsImprovement for the smallest group
    against the rest (0.5: the synthetic data is as fair as the real; below: less fair)."""
    target = next((c for c in schema["columns"] if c["role"] == "target"), None)
    if target is None:
        return None
    name = target["name"]
    ref_labels, syn_labels = _labels(reference[name]), _labels(synthetic[name])
    positive = _positive_label(ref_labels, target)
    result: dict = {"target": name, "positive_label": positive, "attributes": {}}
    if positive is None:
        result["error"] = "the reference has no outcome values"
        return result
    for column in schema["columns"]:
        if column["role"] != "sensitive":
            continue
        ref_groups = _groups(reference[column["name"]], column, band_width)
        syn_groups = _groups(synthetic[column["name"]], column, band_width)
        counts = ref_groups.value_counts()
        kept = [g for g in counts.index if counts[g] >= SMALL_GROUP][:MAX_GROUPS]
        rates = []
        for group in sorted(kept, key=str):
            in_ref, in_syn = ref_groups == group, syn_groups == group
            ref_rate = float((ref_labels[in_ref] == positive).mean())
            syn_rate = float((syn_labels[in_syn] == positive).mean()) if in_syn.any() else None
            rates.append(
                {
                    "group": str(group),
                    "reference_rate": _number(ref_rate),
                    "synthetic_rate": _number(syn_rate),
                    "difference": _number(syn_rate - ref_rate) if syn_rate is not None else None,
                }
            )
        differences = [r for r in rates if r["difference"] is not None]
        worst = max(differences, key=lambda r: abs(r["difference"])) if differences else None
        attribute = {
            "groups": rates,
            "worst_group": worst["group"] if worst else None,
            "worst_rate_difference": _number(abs(worst["difference"])) if worst else None,
        }
        if kept:
            smallest = min(kept, key=lambda g: (counts[g], str(g)))
            attribute["equalized_odds"] = _equalized_odds(
                (reference, ref_labels, ref_groups),
                (synthetic, syn_labels, syn_groups),
                schema,
                name,
                positive,
                column,
                smallest,
            )
        result["attributes"][column["name"]] = attribute
    return result


def _equalized_odds(real, fake, schema, target, positive, column, group):
    """SDMetrics' EqualizedOddsImprovement for ``group`` of ``column`` against the other groups;
    ``real`` and ``fake`` are each ``(frame, target labels, column's groups)``."""
    from sdmetrics.single_table import EqualizedOddsImprovement

    table = _metadata(schema)
    table["columns"] = {**table["columns"], target: {"sdtype": "categorical"}}
    table["columns"][column["name"]] = {"sdtype": "categorical"}
    frames = []
    for frame, labels, groups in (real, fake):
        frame = frame.copy()
        frame[target] = labels
        frame[column["name"]] = groups.astype(str)
        frames.append(frame.dropna(subset=[target]))
    reference, synthetic = frames
    validation = reference.sample(frac=_HOLDOUT_SHARE, random_state=0)
    training = reference.drop(validation.index)
    outcome = {"group": str(group), "validation": f"a random {_HOLDOUT_SHARE:.0%} of the reference, held out"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            breakdown = EqualizedOddsImprovement.compute_breakdown(
                training, synthetic, validation, table, None, target, positive, column["name"], str(group)
            )
    except (ValueError, ImportError) as exc:
        return {**outcome, "score": None, "error": str(exc)}
    return {
        **outcome,
        "score": _number(breakdown["score"]),
        "real_equalized_odds": _number(breakdown["real_training_data"]["equalized_odds"]),
        "synthetic_equalized_odds": _number(breakdown["synthetic_data"]["equalized_odds"]),
    }


def _disclosure_protection(
    synthetic: pd.DataFrame, reference: pd.DataFrame, schema: dict, *, rows: int, iterations: int
) -> dict:
    """SDMetrics' DisclosureProtectionEstimate (CAP attack on subsamples): how well the declared
    sensitive columns are protected from an attacker who knows the quasi-identifiers and holds the
    synthetic data. Not run (``score`` null, ``reason``) without both roles."""
    usable = [c for c in schema["columns"] if c["sdtype"] in ("categorical", "numerical")]
    known = [c["name"] for c in usable if c["role"] == "quasi_identifier"]
    sensitive = [c["name"] for c in usable if c["role"] == "sensitive"]
    if not known or not sensitive:
        return {
            "score": None,
            "reason": "needs quasi_identifier and sensitive columns (categorical or numerical)",
        }
    from sdmetrics.single_table import DisclosureProtectionEstimate

    columns = known + sensitive
    continuous = [c["name"] for c in usable if c["sdtype"] == "numerical" and c["name"] in columns]
    subsample = min(rows, len(synthetic), len(reference))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        breakdown = DisclosureProtectionEstimate.compute_breakdown(
            reference[columns].copy(),
            synthetic[columns].copy(),
            known_column_names=known,
            sensitive_column_names=sensitive,
            continuous_column_names=continuous or None,
            num_rows_subsample=subsample,
            num_iterations=iterations,
            verbose=False,
        )
    return {
        "score": _number(breakdown["score"]),
        "cap_protection": _number(breakdown["cap_protection"]),
        "baseline_protection": _number(breakdown["baseline_protection"]),
        "known_columns": known,
        "sensitive_columns": sensitive,
        "rows_subsampled": subsample,
        "iterations": iterations,
    }


def _properties(report) -> dict:
    return {r["Property"]: _number(r["Score"]) for r in report.get_properties().to_dict("records")}


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else round(number, 6)


def _exact_copies(synthetic: pd.DataFrame, reference: pd.DataFrame, schema: dict) -> dict:
    # Identifiers are generated afresh, so a copied patient shows in every other column.
    columns = [c["name"] for c in schema["columns"] if c["sdtype"] != "id"]
    if not columns:
        return {"count": 0, "rate": 0.0, "columns": []}
    reference_hashes = set(pd.util.hash_pandas_object(reference[columns], index=False).to_numpy().tolist())
    synthetic_hashes = pd.util.hash_pandas_object(synthetic[columns], index=False).to_numpy()
    count = int(np.isin(synthetic_hashes, np.fromiter(reference_hashes, dtype=np.uint64)).sum())
    return {
        "count": count,
        "rate": _number(count / len(synthetic)) if len(synthetic) else 0.0,
        "columns": columns,
    }


def _groups(series: pd.Series, column: dict, band_width: float) -> pd.Series:
    if column["sdtype"] == "numerical":
        width = float(column.get("band_width") or band_width)
        low = np.floor(series / width) * width
        names = {v: f"{v:g}–{v + width:g}" for v in low.dropna().unique()}
        return low.map(names).astype(object).where(low.notna(), MISSING_LABEL)
    if column["sdtype"] == "datetime":
        years = series.dt.year
        return (
            years.map({v: str(int(v)) for v in years.dropna().unique()})
            .astype(object)
            .where(years.notna(), MISSING_LABEL)
        )
    return series.astype(object).where(series.notna(), MISSING_LABEL)


def _group_shares(synthetic: pd.Series, reference: pd.Series, column: dict, band_width: float) -> dict:
    ref_groups = _groups(reference, column, band_width)
    syn_groups = _groups(synthetic, column, band_width)
    ref_counts = ref_groups.value_counts()
    small = set(ref_counts[ref_counts < SMALL_GROUP].index)
    large = ref_counts[ref_counts >= SMALL_GROUP].index[:MAX_GROUPS]
    keep = set(large)
    # Groups the reference lacks are kept: over-generating a group is a bias finding too.
    syn_only = set(syn_groups.unique()) - set(ref_counts.index)
    pool = lambda g: g if g in keep or g in syn_only else SMALL_GROUPS_LABEL  # noqa: E731
    ref_shares = ref_groups.map(pool).value_counts(normalize=True)
    syn_shares = syn_groups.map(pool).value_counts(normalize=True)
    groups = []
    for group in sorted(set(ref_shares.index) | set(syn_shares.index), key=str):
        ref_share = float(ref_shares.get(group, 0.0))
        syn_share = float(syn_shares.get(group, 0.0))
        groups.append(
            {
                "group": str(group),
                "reference_share": _number(ref_share),
                "synthetic_share": _number(syn_share),
                "difference": _number(syn_share - ref_share),
                "ratio": _number(syn_share / ref_share) if ref_share else None,
            }
        )
    worst = max(groups, key=lambda g: abs(g["difference"] or 0.0)) if groups else None
    ratios = [g["ratio"] for g in groups if g["ratio"] is not None]
    return {
        "groups": groups,
        "worst_group": worst["group"] if worst else None,
        "worst_difference": _number(abs(worst["difference"] or 0.0)) if worst else None,
        "worst_ratio": min(ratios) if ratios else None,
        "pooled_small_groups": len(small),
    }


def _findings(scores: dict, thresholds: Thresholds) -> list[dict]:
    findings = []
    copies = scores["privacy"]["exact_copies"]["count"]
    if copies > thresholds.exact_copies:
        findings.append(
            {
                "check": "exact_copies",
                "value": copies,
                "threshold": thresholds.exact_copies,
                "message": f"{copies} synthetic rows are exact copies of reference rows",
            }
        )
    fidelity = scores["quality"]["score"]
    if fidelity is None or fidelity < thresholds.fidelity:
        findings.append(
            {
                "check": "fidelity",
                "value": fidelity,
                "threshold": thresholds.fidelity,
                "message": f"quality score {fidelity} is below {thresholds.fidelity}",
            }
        )
    dcr = scores["privacy"]["dcr_baseline_protection"]["score"]
    if thresholds.dcr_protection > 0 and (dcr is None or dcr < thresholds.dcr_protection):
        findings.append(
            {
                "check": "dcr_protection",
                "value": dcr,
                "threshold": thresholds.dcr_protection,
                "message": f"DCR baseline protection {dcr} is below {thresholds.dcr_protection}",
            }
        )
    for name, bias in scores["bias"].items():
        difference = bias["worst_difference"]
        if difference is not None and difference > thresholds.group_difference:
            findings.append(
                {
                    "check": "group_difference",
                    "column": name,
                    "value": difference,
                    "threshold": thresholds.group_difference,
                    "message": f"{name}: group {bias['worst_group']!r} differs by {difference:.3f} in share",
                }
            )
    return findings
