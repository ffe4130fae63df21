"""With a target column: outcome rates per group of each sensitive attribute and SDMetrics'
EqualizedOddsImprovement (real and synthetic XGBoost classifiers judged on held-out reference rows)."""

import json

import numpy as np
import pandas as pd
import pytest

from datasets.scoring import _positive_label, coerce_frame, infer_schema, score_tables
from tests.datasets.conftest import patients

ROLES = {"patient_id": "identifier", "sex": "sensitive", "age": "sensitive", "readmitted": "target"}


def with_outcome(frame: pd.DataFrame, seed: int, favour_women: float = 0.0) -> pd.DataFrame:
    """A readmission flag driven by age; ``favour_women`` bends it by sex (a biased generator)."""
    rng = np.random.default_rng(seed)
    logit = (frame["age"] - 50) / 10 + (frame["sex"] == "F") * favour_women
    frame["readmitted"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def scored(synthetic: pd.DataFrame, reference: pd.DataFrame) -> dict:
    schema = infer_schema(reference, ROLES)
    scores, _ = score_tables(coerce_frame(synthetic, schema), coerce_frame(reference, schema), schema)
    return scores


ROWS = 1500


@pytest.fixture(scope="module")
def reference():
    return with_outcome(patients(ROWS, seed=1, prefix="r"), 1)


@pytest.fixture(scope="module")
def fair(reference):
    return scored(with_outcome(patients(ROWS, seed=2), 2), reference)


def test_a_faithful_generator_keeps_equalized_odds_and_outcome_rates(fair):
    outcomes = fair["outcomes"]
    assert outcomes["target"] == "readmitted" and outcomes["positive_label"] == "1"
    sex = outcomes["attributes"]["sex"]
    assert {g["group"] for g in sex["groups"]} == {"F", "M"}
    assert sex["worst_rate_difference"] < 0.06
    odds = sex["equalized_odds"]
    assert odds["group"] in ("F", "M") and 0.4 < odds["score"] < 0.6
    assert "held out" in odds["validation"]
    assert "equalized_odds" in outcomes["attributes"]["age"]  # banded: the smallest age band


def test_a_generator_that_bends_outcomes_by_sex_scores_worse(reference, fair):
    before = fair["outcomes"]["attributes"]["sex"]
    bent = scored(with_outcome(patients(ROWS, seed=2), 2, favour_women=3.0), reference)["outcomes"]
    sex = bent["attributes"]["sex"]
    assert sex["worst_group"] == "F" and sex["worst_rate_difference"] > 0.2
    assert sex["equalized_odds"]["score"] < before["equalized_odds"]["score"] - 0.1
    assert sex["equalized_odds"]["score"] < 0.45


def test_outcomes_hold_aggregates_only(fair):
    text = json.dumps(fair["outcomes"])
    assert "r1-" not in text and "p2-" not in text  # no identifiers, no rows


def test_too_few_outcomes_in_a_group_is_reported_not_raised():
    reference = with_outcome(patients(300, seed=1, prefix="r"), 1)
    reference.loc[reference["sex"] == "F", "readmitted"] = 0  # no positive outcome for women
    outcomes = scored(with_outcome(patients(300, seed=2), 2), reference)["outcomes"]
    odds = outcomes["attributes"]["sex"]["equalized_odds"]
    assert odds["score"] is None and "Insufficient data" in odds["error"]


def test_without_a_target_there_are_no_outcomes():
    frame = patients(200, seed=1)
    schema = infer_schema(frame, {"patient_id": "identifier", "sex": "sensitive"})
    scores, _ = score_tables(coerce_frame(frame, schema), coerce_frame(frame, schema), schema)
    assert "outcomes" not in scores


@pytest.mark.parametrize(
    ("values", "declared", "expected"),
    [
        (["0", "1", "1"], None, "1"),
        (["no", "yes", "no"], None, "yes"),
        (["True", "False"], None, "True"),
        (["stay", "stay", "leave"], None, "leave"),  # the rarer outcome
        (["stay", "leave"], "stay", "stay"),
        ([None, None], None, None),
    ],
)
def test_the_positive_outcome(values, declared, expected):
    column = {"name": "t", "positive_label": declared} if declared else {"name": "t"}
    assert _positive_label(pd.Series(values, dtype=object), column) == expected


def test_the_report_summary_carries_the_lowest_equalized_odds_only_with_a_target(fair):
    from datasets.selectors import report_summary

    scores = [a["equalized_odds"]["score"] for a in fair["outcomes"]["attributes"].values()]
    assert report_summary(fair)["equalized_odds_improvement"] == min(s for s in scores if s is not None)
    without = {k: v for k, v in fair.items() if k != "outcomes"}
    assert "equalized_odds_improvement" not in report_summary(without)
