"""The EU AI Act questionnaire: risk class, obligations with article references, rationale."""

from __future__ import annotations

import pytest

from audits.ai_act import RiskClass, classify


def articles(outcome) -> set[str]:
    return {o["article"] for o in outcome.obligations}


def test_a_store_publishing_generated_product_photos_has_transparency_duties_only():
    outcome = classify({"deployer": True, "provider": True, "generates_synthetic": True})
    assert outcome.risk_class == RiskClass.TRANSPARENCY
    assert {"Art. 50(2)", "Art. 50(5)"} <= articles(outcome)
    assert "Art. 9" not in articles(outcome)


def test_a_medical_device_informing_diagnosis_is_high_risk_under_annex_i():
    outcome = classify({"provider": True, "medical_device": True, "informs_diagnosis": True})
    assert outcome.risk_class == RiskClass.HIGH_ANNEX_I
    assert {"Art. 9", "Art. 11, Annex IV", "Art. 14"} <= articles(outcome)
    assert any("Rule 11" in line for line in outcome.rationale)


def test_emergency_triage_is_high_risk_under_annex_iii():
    outcome = classify({"deployer": True, "annex3_5d": True})
    assert outcome.risk_class == RiskClass.HIGH_ANNEX_III
    assert "Art. 26" in articles(outcome)


def test_an_exemption_takes_an_annex_iii_system_out_of_high_risk_but_needs_documenting():
    outcome = classify({"deployer": True, "annex3_5c": True, "preparatory": True})
    assert outcome.risk_class == RiskClass.ANNEX_III_EXEMPT
    assert {"Art. 6(4)", "Art. 49(2)"} <= articles(outcome)


def test_profiling_overrides_the_exemptions():
    outcome = classify({"deployer": True, "annex3_5c": True, "preparatory": True, "profiling": True})
    assert outcome.risk_class == RiskClass.HIGH_ANNEX_III
    assert any("profiles natural persons" in line for line in outcome.rationale)


def test_reviewed_public_interest_text_needs_no_disclosure_but_unreviewed_text_does():
    reviewed = classify({"deployer": True, "public_interest_text": True, "editorial_review": True})
    unreviewed = classify({"deployer": True, "public_interest_text": True})
    assert "Art. 50(4)" not in articles(reviewed) and reviewed.risk_class == RiskClass.MINIMAL
    assert "Art. 50(4)" in articles(unreviewed) and unreviewed.risk_class == RiskClass.TRANSPARENCY


def test_deep_fakes_must_be_disclosed_by_the_deployer():
    assert "Art. 50(4)" in articles(classify({"deployer": True, "deep_fake": True}))


def test_unknown_questions_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        classify({"is_it_fine": True})
