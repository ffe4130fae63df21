"""The AI Act application dates of the classification and the dashboard: the Digital Omnibus
calendar, each date with its source, overridable in settings."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from audits.ai_act import MILESTONES, classify, milestones_with
from audits.selectors import ai_act_calendar, ai_act_milestones
from audits.services import classification_propose
from sidecar.env import env_date

PROVIDER = {"provider": True, "deployer": True, "generates_synthetic": True}


def obligation(outcome, article: str) -> str:
    return next(o["text"] for o in outcome.obligations if o["article"] == article)


def test_the_built_in_dates_are_the_digital_omnibus_calendar_each_with_a_source():
    dates = {m.key: m.applies_from for m in MILESTONES}
    assert dates == {
        "art50": date(2026, 8, 2),
        "art50_2_existing": date(2026, 12, 2),
        "annex_iii": date(2027, 12, 2),
        "annex_i": date(2028, 8, 2),
    }
    assert all("Omnibus" in m.source for m in MILESTONES)


def test_article_50_obligations_cite_both_marking_dates():
    outcome = classify(PROVIDER)
    assert "from 2 Aug 2026, for systems on the market before then from 2 Dec 2026" in obligation(
        outcome, "Art. 50(2)"
    )
    assert "applies from 2 Aug 2026" in obligation(outcome, "Art. 50(5)")


@pytest.mark.parametrize(
    ("answers", "when"),
    [
        ({"provider": True, "medical_device": True, "informs_diagnosis": True}, "2 Aug 2028"),
        ({"deployer": True, "annex3_5d": True}, "2 Dec 2027"),
    ],
)
def test_high_risk_classes_cite_their_own_date_and_source(answers, when):
    rationale = " ".join(classify(answers).rationale)
    assert f"apply from {when}" in rationale and "Digital Omnibus" in rationale
    assert "Applies from 2 Aug 2027" not in rationale  # the pre-Omnibus date


def test_an_overridden_date_is_used_and_names_the_setting_as_its_source():
    milestones = milestones_with({"art50_2_existing": date(2027, 2, 1), "annex_i": None})
    assert milestones["art50_2_existing"].source.startswith("set in this installation's settings")
    assert milestones["annex_i"].applies_from == date(2028, 8, 2)
    assert "from 1 Feb 2027" in obligation(classify(PROVIDER, milestones=milestones), "Art. 50(2)")
    with pytest.raises(ValueError, match="unknown AI Act milestones"):
        milestones_with({"art51": date(2026, 1, 1)})


def test_the_settings_reach_the_dashboard_calendar(settings):
    settings.AI_ACT_DATES = {**settings.AI_ACT_DATES, "annex_iii": date(2028, 1, 3)}
    rows = ai_act_calendar(today=date(2026, 12, 4))
    assert [(r["milestone"].key, r["applies"], r["days"]) for r in rows] == [
        ("art50", True, 0),
        ("art50_2_existing", True, 0),
        ("annex_iii", False, 395),
        ("annex_i", False, 607),
    ]
    assert ai_act_milestones()["annex_iii"].label() == "3 Jan 2028"


@pytest.mark.django_db
def test_a_proposed_classification_stores_the_dates_in_force(settings, reviewer, generator):
    settings.AI_ACT_DATES = {**settings.AI_ACT_DATES, "art50": date(2026, 9, 1)}
    proposal = classification_propose(
        generator=generator, use_case="Images", answers=PROVIDER, actor=reviewer
    )
    assert any("from 1 Sep 2026" in o["text"] for o in proposal.obligations)


@pytest.mark.django_db
def test_the_dashboard_shows_the_calendar_with_sources(client, approver):
    client.force_login(approver)
    page = client.get("/admin/workspace/dashboard/").content.decode()
    assert "EU AI Act calendar" in page
    for when in ("2 Aug 2026", "2 Dec 2026", "2 Dec 2027", "2 Aug 2028"):
        assert when in page
    assert page.count("Source: ") == 4


def test_a_date_setting_that_is_not_a_date_stops_the_process(monkeypatch):
    monkeypatch.setenv("PROVENANT_AI_ACT_ANNEX_I_FROM", "2 Aug 2028")
    with pytest.raises(ImproperlyConfigured, match="PROVENANT_AI_ACT_ANNEX_I_FROM"):
        env_date("PROVENANT_AI_ACT_ANNEX_I_FROM")
    monkeypatch.setenv("PROVENANT_AI_ACT_ANNEX_I_FROM", "2028-08-03")
    assert env_date("PROVENANT_AI_ACT_ANNEX_I_FROM") == date(2028, 8, 3)
