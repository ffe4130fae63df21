"""Integrity rules per kind: double-booked clinicians, real-looking card numbers, unmarked test orders,
patients sharing a reference identifier. Findings name rows by number, never their values."""

import json

import numpy as np
import pandas as pd
import pytest

from datasets.integrity import RulesError, check_integrity, load_rules, luhn_valid, mask_card

RULES = load_rules()
REAL_LOOKING = "4539578763621486"  # Luhn-valid, in no published test list


def appointments(n=200, *, seed=0) -> pd.DataFrame:
    """Fictional 30-minute appointments, each clinician's back to back (no overlaps)."""
    rng = np.random.default_rng(seed)
    clinician = rng.choice([f"c{i}" for i in range(8)], n)
    start = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    for name in set(clinician):
        rows = np.flatnonzero(clinician == name)
        start.iloc[rows] = pd.Timestamp("2026-03-02 08:00") + pd.to_timedelta(
            np.arange(len(rows)) * 30, unit="m"
        )
    return pd.DataFrame(
        {
            "appointment_id": [f"a{i}" for i in range(n)],
            "clinician_id": clinician,
            "start": start.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "end": (start + pd.Timedelta(minutes=30)).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )


def test_the_luhn_check_and_masking():
    assert luhn_valid("4242424242424242") and luhn_valid(REAL_LOOKING)
    assert not luhn_valid("4242424242424241") and not luhn_valid("4242x42424242424")
    assert mask_card(REAL_LOOKING) == "****1486"


def test_clean_appointments_pass_every_rule():
    results, findings = check_integrity(appointments(), "appointments", rules=RULES)
    assert findings == []
    assert {r: v["count"] for r, v in results.items()} == {
        "end_after_start": 0,
        "duration_bounds": 0,
        "clinician_not_double_booked": 0,
    }
    assert all(v["applicable"] for v in results.values())


def test_a_double_booked_clinician_is_found_by_row_number():
    frame = appointments()
    first, after = frame.index[frame["clinician_id"] == "c3"][2:4]
    clash = frame.index[frame["clinician_id"] == "c5"][0]
    frame.loc[clash, ["clinician_id", "start"]] = ["c3", frame.loc[first, "start"].replace(":00:", ":10:")]
    frame.loc[clash, "end"] = pd.Timestamp(frame.loc[clash, "start"]) + pd.Timedelta(minutes=30)
    frame.loc[7, "end"] = frame.loc[7, "start"]  # ends when it starts
    frame.loc[9, "end"] = "not a time"
    results, findings = check_integrity(frame, "appointments", rules=RULES)
    double = results["clinician_not_double_booked"]
    # the clash starts 10 minutes into c3's third slot and overlaps the fourth: both later rows
    assert double["rows"] == sorted([clash + 1, after + 1])
    assert results["end_after_start"]["rows"] == [8, 10]
    assert results["duration_bounds"]["rows"] == [8]
    assert {f["rule"] for f in findings} == {
        "clinician_not_double_booked",
        "end_after_start",
        "duration_bounds",
    }
    assert "c3" not in json.dumps(results) + json.dumps(findings)  # row numbers, not values


def test_overlap_detection_finds_every_overlapping_row_at_scale():
    frame = appointments(20_000, seed=1)
    results, _ = check_integrity(frame, "appointments", rules=RULES)
    assert results["clinician_not_double_booked"]["count"] == 0
    frame["clinician_id"] = (
        "c0"  # everyone on one clinician: every appointment after the first at a slot clashes
    )
    results, findings = check_integrity(frame, "appointments", rules=RULES)
    slots = frame["start"].nunique()
    assert results["clinician_not_double_booked"]["count"] == len(frame) - slots
    assert len(results["clinician_not_double_booked"]["rows"]) == 20  # the first rows listed, all counted


def transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "card_number": [
                "4242 4242 4242 4242",
                REAL_LOOKING,
                "5555555555554444",
                "4242424242424241",
                None,
            ],
            "amount": [10.0, 20.5, 3.0, 9.99, 1.0],
            "is_test": ["1", "true", "0", "", "yes"],
        }
    )


def test_real_looking_card_numbers_and_unmarked_test_orders_are_found():
    results, findings = check_integrity(transactions(), "transactions", rules=RULES)
    cards = results["test_card_numbers_only"]
    assert cards["rows"] == [2] and cards["masked_numbers"] == ["****1486"]
    assert results["test_order_marker"]["rows"] == [3, 4]
    text = json.dumps(results) + json.dumps(findings)
    assert REAL_LOOKING not in text and "o2" not in text


def test_a_rule_whose_column_is_missing_is_reported_as_not_applied():
    results, findings = check_integrity(transactions().drop(columns=["is_test"]), "transactions", rules=RULES)
    marker = results["test_order_marker"]
    assert marker["applicable"] is False and "no marker column" in marker["reason"]
    assert [f["rule"] for f in findings] == ["test_card_numbers_only"]


def test_patients_sharing_a_reference_identifier_are_found():
    synthetic = pd.DataFrame({"patient_id": ["s1", "r7", "s3", "r2"], "age": [1, 2, 3, 4]})
    reference = pd.DataFrame({"patient_id": ["r1", "r2", "r7"], "age": [5, 6, 7]})
    results, findings = check_integrity(
        synthetic, "patients", rules=RULES, identifier_columns=["patient_id"], reference=reference
    )
    assert results["no_reference_identifier"]["rows"] == [2, 4]
    assert findings[0]["message"].startswith("no_reference_identifier: 2 row(s)")
    assert "r7" not in json.dumps(results)


def test_a_store_file_adds_test_numbers_and_replaces_a_rule(tmp_path):
    store = tmp_path / "rules.json"
    store.write_text(
        json.dumps(
            {
                "kinds": {
                    "appointments": [
                        {
                            "id": "duration_bounds",
                            "check": "duration_bounds",
                            "columns": {"start": ["start"], "end": ["end"]},
                            "min_minutes": 45,
                        }
                    ]
                },
                "test_card_numbers": {"numbers": [REAL_LOOKING]},
            }
        )
    )
    rules = load_rules(store)
    results, _ = check_integrity(transactions(), "transactions", rules=rules)
    assert results["test_card_numbers_only"]["count"] == 0
    results, _ = check_integrity(appointments(20), "appointments", rules=rules)
    assert results["duration_bounds"]["count"] == 20 and len(rules.for_kind("appointments")) == 3
    store.write_text(json.dumps({"kinds": {"patients": [{"id": "x", "check": "teleport"}]}}))
    with pytest.raises(RulesError, match="unknown check 'teleport'"):
        load_rules(store)


def test_patient_contact_data_must_be_fictional():
    frame = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4", "p5"],
            "email": [
                "a@example.com",
                "b@clinic.test",
                "c@gmail.com",
                "d@mail.example.org",
                "not-an-address",
            ],
            "phone": ["07700 900123", "+44 20 7946 0999", "(555) 555-0134", "07911 123456", None],
            "date_of_birth": ["1980-02-29", "2199-01-01", "1850-05-05", "1999-13-01", "2001-07-07"],
        }
    )
    results, findings = check_integrity(frame, "patients", rules=RULES)
    assert results["reserved_email_domains"]["rows"] == [3, 5]
    assert results["fictional_phone_numbers"]["rows"] == [4]
    assert results["plausible_date_of_birth"]["rows"] == [2, 3, 4]
    assert results["no_reference_identifier"]["applicable"] is False  # no reference given
    assert "gmail" not in json.dumps(results) + json.dumps(findings)


def test_behavioural_events_are_in_time_order_per_session():
    frame = pd.DataFrame(
        {
            "session_id": ["s1", "s2", "s1", "s1", "s2", "s1"],
            "timestamp": [
                "2026-01-01T10:00:00",
                "2026-01-01T09:00:00",
                "2026-01-01T10:05:00",
                "2026-01-01T10:01:00",  # back in time after 10:05
                "2026-01-01T09:01:00",
                "2026-01-01T10:03:00",  # still before 10:05
            ],
            "event": ["view", "view", "cart", "view", "cart", "buy"],
        }
    )
    results, findings = check_integrity(frame, "behavioural_events", rules=RULES)
    assert results["ordered_per_session"]["rows"] == [4, 6]
    assert [f["rule"] for f in findings] == ["ordered_per_session"]
