"""Fixtures: a generator, a dataset storage directory, and fictional patient tables made here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User

from audits.roles import roles_sync
from provenance.models import Generator


@pytest.fixture
def storage_dir(settings, tmp_path):
    settings.DATASET_STORAGE_DIR = tmp_path / "stored"
    return settings.DATASET_STORAGE_DIR


@pytest.fixture
def generator(db):
    return Generator.objects.create(name="patient-synth", version="1.0")


def patients(n: int, *, seed: int, age_shift: float = 0.0, prefix: str = "p") -> pd.DataFrame:
    """Fictional patients: an id, age, sex, region, a visit date and a systolic pressure."""
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(48 + age_shift, 16, n), 0, 99).round()
    return pd.DataFrame(
        {
            "patient_id": [f"{prefix}{seed}-{i}" for i in range(n)],
            "age": age.astype(int),
            "sex": rng.choice(["F", "M"], n),
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "visit": (
                pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "systolic": (110 + 0.4 * age + rng.normal(0, 8, n)).round(1),
        }
    )


@pytest.fixture
def write_csv(tmp_path):
    def write(frame: pd.DataFrame, name: str) -> str:
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return str(path)

    return write


@pytest.fixture
def staff(db, client):
    """Log the test client in as staff of a role (the role groups as the migrations leave them)."""
    roles_sync(apps)

    def login(role):
        user = User.objects.create_user(f"u-{role}", password="a-long-test-password", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(User.objects.get(pk=user.pk))
        return client

    return login
