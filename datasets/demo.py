"""Fictional demo tables: reference and synthetic patients, appointments and card transactions.

Django-free and deterministic (NumPy's PCG64 with fixed seeds). Every value is made up here: ids are
``demo-…``, e-mail addresses are at ``example.test`` (RFC 2606), card numbers are published test
numbers. Each synthetic table shows one thing a report finds: rows copied from the reference, a
shifted age distribution, double-booked clinicians, a card number that looks real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DEMO_TABLES", "appointments", "patients", "transactions"]

_TEST_CARDS = ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117"]
_LOOKS_REAL = "4539578763621486"  # passes the Luhn check, in no published test list


def patients(n: int, *, seed: int, age_shift: float = 0.0, prefix: str = "demo-p") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(47 + age_shift, 17, n), 0, 99).round()
    return pd.DataFrame(
        {
            "patient_id": [f"{prefix}{seed}-{i:05d}" for i in range(n)],
            "age": age.astype(int),
            "sex": rng.choice(["F", "M"], n),
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "language": rng.choice(["de", "en", "fr"], n, p=[0.6, 0.3, 0.1]),
            "systolic": (108 + 0.45 * age + rng.normal(0, 8, n)).round(1),
            "diabetic": rng.choice(["yes", "no"], n, p=[0.1, 0.9]),
        }
    )


def appointments(n: int, *, seed: int, double_booked: int = 0) -> pd.DataFrame:
    """Back-to-back 30-minute slots per clinician from 08:00; ``double_booked`` rows moved onto a
    slot of another appointment of the same clinician."""
    rng = np.random.default_rng(seed)
    clinician = rng.choice([f"demo-c{i:02d}" for i in range(10)], n)
    slot = np.zeros(n, dtype=int)
    for name in np.unique(clinician):
        rows = np.flatnonzero(clinician == name)
        slot[rows] = np.arange(len(rows))
    start = (
        pd.Timestamp("2026-03-02 08:00")
        + pd.to_timedelta(slot // 16, unit="D")
        + pd.to_timedelta((slot % 16) * 30, unit="m")
    )
    frame = pd.DataFrame(
        {
            "appointment_id": [f"demo-a{seed}-{i:05d}" for i in range(n)],
            "clinician_id": clinician,
            "patient_age": np.clip(rng.normal(45, 18, n), 0, 99).round().astype(int),
            "channel": rng.choice(["video", "phone", "clinic"], n, p=[0.5, 0.2, 0.3]),
            "start": pd.Series(start).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "end": pd.Series(start + pd.Timedelta(minutes=30)).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    for row in rng.choice(np.arange(1, n), size=double_booked, replace=False):
        same = np.flatnonzero((clinician == clinician[row]) & (np.arange(n) != row))
        other = same[0]
        frame.loc[row, ["start", "end"]] = frame.loc[other, ["start", "end"]].to_numpy()
    return frame


def transactions(n: int, *, seed: int, real_looking: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cards = rng.choice(_TEST_CARDS, n)
    for row in rng.choice(n, size=real_looking, replace=False):
        cards[row] = _LOOKS_REAL
    return pd.DataFrame(
        {
            "order_id": [f"demo-o{seed}-{i:05d}" for i in range(n)],
            "customer_email": [f"buyer{int(i)}@example.test" for i in rng.integers(0, n // 3 + 1, n)],
            "amount": rng.lognormal(3.4, 0.6, n).round(2),
            "currency": rng.choice(["EUR", "CHF"], n, p=[0.8, 0.2]),
            "card_number": cards,
            "is_test": ["1"] * n,
        }
    )


def _copying(n: int) -> pd.DataFrame:
    frame = patients(n, seed=21)
    reference = patients(n, seed=11, prefix="demo-ref-p")
    frame.iloc[:40, 1:] = reference.iloc[:40, 1:].to_numpy()  # fresh ids, copied patients
    return frame


# name -> (kind, reference name, table maker, synthetic table maker, roles)
DEMO_TABLES = {
    "demo-patients-copying": (
        "patients",
        "demo-patients-reference",
        lambda: patients(800, seed=11, prefix="demo-ref-p"),
        lambda: _copying(800),
        {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive", "region": "quasi_identifier"},
    ),
    "demo-patients-older": (
        "patients",
        "demo-patients-reference",
        lambda: patients(800, seed=11, prefix="demo-ref-p"),
        lambda: patients(800, seed=22, age_shift=14),
        {"patient_id": "identifier", "age": "sensitive", "sex": "sensitive", "region": "quasi_identifier"},
    ),
    "demo-appointments": (
        "appointments",
        "demo-appointments-reference",
        lambda: appointments(800, seed=12),
        lambda: appointments(800, seed=23, double_booked=6),
        {
            "appointment_id": "identifier",
            "clinician_id": "categorical",
            "start": "datetime",
            "end": "datetime",
        },
    ),
    "demo-transactions": (
        "transactions",
        "demo-transactions-reference",
        lambda: transactions(800, seed=13),
        lambda: transactions(800, seed=24, real_looking=2),
        {"order_id": "identifier", "card_number": "categorical", "customer_email": "categorical"},
    ),
}
