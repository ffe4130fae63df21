"""The fraud-screening exclusion export: synthetic test orders, customers and test card numbers."""

import csv
import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.services import dataset_register

pytestmark = pytest.mark.django_db
REAL_LOOKING = "4539578763621486"


@pytest.fixture
def transactions(generator, storage_dir, write_csv):
    frame = pd.DataFrame(
        {
            "order_id": ["T-1", "T-2", '=HYPERLINK("http://x")', "T-1"],
            "customer_email": ["a@example.test", "b@example.test", "a@example.test", "c@example.test"],
            "card_number": ["4242 4242 4242 4242", REAL_LOOKING, "5555555555554444", "4242424242424242"],
            "amount": [10.0, 20.0, 30.0, 40.0],
            "is_test": ["1", "1", "1", "1"],
        }
    )
    path = write_csv(frame, "tx.csv")
    with open(path, "rb") as stream:
        return dataset_register(
            stream=stream,
            filename=path,
            name="checkout-tests",
            kind="transactions",
            generator="patient-synth",
        ).version


def test_the_csv_lists_orders_customers_and_test_cards_but_no_real_looking_card(transactions, capsys):
    call_command("dataset_fraud_exclusions")
    text = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(text)))
    by_type = {}
    for row in rows:
        by_type.setdefault(row["type"], []).append(row["value"])
    assert by_type["order"] == ["T-1", "T-2", '\'=HYPERLINK("http://x")']  # defused, each once
    assert by_type["customer"] == ["a@example.test", "b@example.test", "c@example.test"]
    assert by_type["test_card"] == ["4242424242424242", "5555555555554444"]
    assert REAL_LOOKING not in text
    assert {row["sha256"] for row in rows} == {transactions.sha256}


def test_the_json_names_the_versions_and_the_test_card_rule(transactions, tmp_path):
    out = tmp_path / "exclusions.json"
    call_command("dataset_fraud_exclusions", "--format", "json", "--output", str(out))
    export = json.loads(out.read_text())
    assert export["datasets"] == [{"dataset": "checkout-tests", "version": 1, "sha256": transactions.sha256}]
    assert (
        "4111111111111111" in export["test_card_numbers"] and REAL_LOOKING not in export["test_card_numbers"]
    )


def test_an_unknown_dataset_is_refused(transactions):
    with pytest.raises(CommandError, match="no registered versions of nope"):
        call_command("dataset_fraud_exclusions", "--dataset", "nope")


@pytest.fixture
def fraud_client(client):
    from provenance.auth import api_client_create

    token = api_client_create(name="payments", scopes=["datasets:fraud"], actor="test").token
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_the_api_answers_the_same_exclusions_as_json_and_csv(transactions, fraud_client):
    answer = fraud_client.get("/api/v1/datasets/fraud-exclusions")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    export = answer.json()
    assert export["datasets"] == [{"dataset": "checkout-tests", "version": 1, "sha256": transactions.sha256}]
    assert REAL_LOOKING not in answer.content.decode()

    as_csv = fraud_client.get("/api/v1/datasets/fraud-exclusions?output=csv&dataset=checkout-tests")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert '\'=HYPERLINK("http://x")' in [row["value"] for row in rows]  # defused


def test_the_api_names_an_unknown_dataset_and_a_bad_format(transactions, fraud_client):
    unknown = fraud_client.get("/api/v1/datasets/fraud-exclusions?dataset=nope")
    assert unknown.status_code == 400 and list(unknown.json()["error"]["fields"]) == ["dataset"]
    bad = fraud_client.get("/api/v1/datasets/fraud-exclusions?output=xml")
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["output"]


def test_the_api_needs_the_fraud_scope(transactions, client):
    from provenance.auth import api_client_create

    token = api_client_create(name="uploader", scopes=["datasets:write"], actor="test").token
    answer = client.get("/api/v1/datasets/fraud-exclusions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 403
