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
    """Fictional 30-minute appointments, each clinician's back to back from 08:00, 16 a day (no overlaps)."""
    rng = np.random.default_rng(seed)
    clinician = rng.choice([f"c{i}" for i in range(8)], n)
    start = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    for name in set(clinician):
        rows = np.flatnonzero(clinician == name)
        slot = np.arange(len(rows))
        start.iloc[rows] = (
            pd.Timestamp("2026-03-02 08:00")
            + pd.to_timedelta(slot // 16, unit="D")
            + pd.to_timedelta((slot % 16) * 30, unit="m")
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
        "inside_opening_hours": 0,
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
    assert results["duration_bounds"]["count"] == 20 and len(rules.for_kind("appointments")) == 4
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


def _store_rules(tmp_path, kind: str, rule: dict):
    store = tmp_path / "rules.json"
    store.write_text(json.dumps({"kinds": {kind: [rule]}}))
    return load_rules(store)


def _opening_rule(**values) -> dict:
    rule = dict(next(r for r in RULES.for_kind("appointments") if r["id"] == "inside_opening_hours"))
    rule.update(values)
    return rule


def test_appointments_outside_the_clinics_opening_hours_in_its_time_zone_are_found(tmp_path):
    weekdays = {day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    rules = _store_rules(
        tmp_path, "appointments", _opening_rule(time_zone="Europe/Berlin", hours={**weekdays, "sat": None})
    )
    frame = pd.DataFrame(
        {
            "start": [
                "2026-03-02T09:00:00",  # Monday, local time: inside
                "2026-03-02T08:30:00",  # before opening
                "2026-03-02T16:45:00",  # ends after closing
                "2026-03-07T10:00:00",  # Saturday: closed
                "2026-03-02T08:00:00Z",  # 09:00 in Berlin (UTC+1): inside
                "2026-03-02T09:00:00",  # 09:00 in New York: inside
                "2026-03-02T09:00:00",  # a zone that is not an IANA name
                "not a time",  # end_after_start's finding, not this rule's
                "2026-03-08T10:00:00",  # Sunday: no hours given, closed
            ],
            "end": [
                "2026-03-02T09:30:00",
                "2026-03-02T09:00:00",
                "2026-03-02T17:15:00",
                "2026-03-07T10:30:00",
                "2026-03-02T08:30:00+00:00",
                "2026-03-02T09:30:00",
                "2026-03-02T09:30:00",
                "2026-03-02T09:30:00",
                "2026-03-08T10:30:00",
            ],
            "time_zone": [None, None, None, None, None, "America/New_York", "Mars/Olympus", None, None],
        }
    )
    results, findings = check_integrity(frame, "appointments", rules=rules)
    hours = results["inside_opening_hours"]
    assert hours["rows"] == [2, 3, 4, 7, 9]
    assert hours["unknown_time_zones"] == 1 and hours["time_zone"] == "Europe/Berlin"
    assert "Mars" not in json.dumps(results) + json.dumps(findings)


def test_opening_hours_across_midnight_and_daylight_saving_changes(tmp_path):
    always = {day: ["00:00", "00:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    rules = _store_rules(tmp_path, "appointments", _opening_rule(time_zone="Europe/Berlin", hours=always))
    frame = pd.DataFrame(
        {
            "start": [
                "2026-03-03T23:30:00",
                "2026-03-03T23:30:00",
                "2026-03-29T02:30:00",
                "2026-10-25T02:30:00",
            ],
            "end": [
                "2026-03-04T00:00:00",
                "2026-03-04T00:30:00",
                "2026-03-29T03:15:00",
                "2026-10-25T02:50:00",
            ],
        }
    )
    results, _ = check_integrity(frame, "appointments", rules=rules)
    # until midnight is inside; into the next day is not; 02:30 does not exist on 29 March in Berlin;
    # 02:30 on 25 October happens twice and is a real time
    assert results["inside_opening_hours"]["rows"] == [2, 3]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"hours": {"monday": ["09:00", "17:00"]}}, "unknown weekday 'monday'"),
        ({"hours": {"mon": ["9am", "5pm"]}}, "hours of 'mon' must be"),
        ({"hours": {"mon": ["09:00"]}}, "hours of 'mon' must be"),
        ({"time_zone": "Europe/Atlantis"}, "unknown time zone"),
    ],
)
def test_opening_hours_that_cannot_be_read_are_refused_when_the_rules_load(tmp_path, rule, message):
    with pytest.raises(RulesError, match=message):
        _store_rules(tmp_path, "appointments", _opening_rule(**rule))


def test_amounts_are_positive_whole_minor_units_of_an_iso_4217_currency():
    frame = pd.DataFrame(
        {
            "currency": [
                "EUR",
                "EUR",
                "JPY",
                "JPY",
                "BHD",
                "eur",
                "XAU",
                "ABC",
                "EUR",
                "EUR",
                "EUR",
                None,
                "CHF",
                "EUR",
            ],
            "amount": [
                "10.00",
                "10.005",
                "100",
                "100.5",
                "1.234",
                "5",
                "1",
                "1",
                "-5",
                "0",
                "abc",
                "5",
                None,
                20.5,
            ],
        }
    )
    results, findings = check_integrity(frame, "transactions", rules=RULES)
    amounts = results["currency_amounts"]
    assert amounts["rows"] == [2, 4, 7, 8, 9, 10, 11, 12, 13]
    assert amounts["unknown_currency_codes"] == 2 and amounts["amount_in"] == "major"
    assert "currency_amounts" in {f["rule"] for f in findings}
    assert "ABC" not in json.dumps(results)


def test_amounts_counted_in_minor_units_are_positive_integers(tmp_path):
    rule = dict(
        next(r for r in RULES.for_kind("transactions") if r["id"] == "currency_amounts"), amount_in="minor"
    )
    rules = _store_rules(tmp_path, "transactions", rule)
    frame = pd.DataFrame(
        {"currency": ["EUR", "EUR", "JPY", "EUR"], "amount": ["1234", "12.5", "100", "1E+2"]}
    )
    results, _ = check_integrity(frame, "transactions", rules=rules)
    assert results["currency_amounts"]["rows"] == [2]


def test_behavioural_events_with_real_session_ids_are_found():
    synthetic = pd.DataFrame(
        {
            "session_id": ["syn-1", "real-7", "syn-2"],
            "timestamp": ["2026-01-01T10:00:00"] * 3,
            "event": ["view"] * 3,
        }
    )
    reference = pd.DataFrame({"session_id": ["real-1", "real-7"], "timestamp": ["2026-01-01T09:00:00"] * 2})
    results, findings = check_integrity(synthetic, "behavioural_events", rules=RULES, reference=reference)
    assert results["no_real_session_ids"]["rows"] == [2]
    assert "real-7" not in json.dumps(results) + json.dumps(findings)
    results, _ = check_integrity(synthetic, "behavioural_events", rules=RULES)
    assert results["no_real_session_ids"]["applicable"] is False


def test_each_clinic_is_judged_by_its_own_hours_and_time_zone(tmp_path):
    weekdays = {day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    clinics = {
        "berlin": {"time_zone": "Europe/Berlin"},  # the rule's hours, its own zone
        "late": {"hours": {day: ["12:00", "22:00"] for day in weekdays}, "time_zone": "Europe/Lisbon"},
    }
    rules = _store_rules(
        tmp_path, "appointments", _opening_rule(time_zone="UTC", hours=weekdays, clinics=clinics)
    )
    frame = pd.DataFrame(
        {
            "clinic_id": ["berlin", "berlin", "late", "late", "elsewhere", None],
            "start": [
                "2026-03-02T08:00:00Z",  # 09:00 in Berlin: inside
                "2026-03-02T16:30:00Z",  # 17:30 in Berlin: after closing
                "2026-03-02T20:00:00",  # local in Lisbon, late hours: inside
                "2026-03-02T10:00:00",  # before the late clinic opens
                "2026-03-02T09:00:00",  # a clinic not listed: the rule's hours in UTC, inside
                "2026-03-02T08:00:00",  # no clinic: before the rule's opening
            ],
            "end": [
                "2026-03-02T08:30:00Z",
                "2026-03-02T17:00:00Z",
                "2026-03-02T20:30:00",
                "2026-03-02T10:30:00",
                "2026-03-02T09:30:00",
                "2026-03-02T08:30:00",
            ],
        }
    )
    results, _ = check_integrity(frame, "appointments", rules=rules)
    hours = results["inside_opening_hours"]
    assert hours["rows"] == [2, 4, 6] and hours["clinics"] == 2


def test_clinic_hours_that_cannot_be_read_are_refused_when_the_rules_load(tmp_path):
    with pytest.raises(RulesError, match="clinic 'x' has an unknown time zone"):
        _store_rules(tmp_path, "appointments", _opening_rule(clinics={"x": {"time_zone": "Mars/Base"}}))
    with pytest.raises(RulesError, match="hours of 'mon' must be"):
        _store_rules(tmp_path, "appointments", _opening_rule(clinics={"x": {"hours": {"mon": ["9"]}}}))
