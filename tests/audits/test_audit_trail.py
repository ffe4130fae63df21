"""The audit trail: append-only, hash-chained, anchored; tampering in the database is named by
``provenance_verify``; personal fields are masked; logins, admin changes and bulk actions are captured."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audits.models import AuditAnchor, AuditEvent, AuditHead
from audits.trail import GENESIS_HASH, audit_anchor, audit_record, mask_personal
from provenance.models import LogEntry


def verify() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("provenance_verify", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def events(db):
    return [
        audit_record(action="test.event", actor="system:test", object_repr=f"thing {n}", detail={"n": n})
        for n in range(1, 6)
    ]


def test_events_form_a_chain_from_the_genesis_hash(events):
    assert events[0].seq == 1 and events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash and after.seq == before.seq + 1
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (5, events[-1].hash)
    ok, out = verify()
    assert ok, out
    assert "Checked 5 audit events." in out


def test_an_event_rolls_back_with_the_change_it_records(db):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        audit_record(action="test.event", actor="system:test")
        raise Boom
    assert not AuditEvent.objects.exists()
    assert audit_record(action="test.event", actor="system:test").seq == 1


def test_an_edited_event_is_named(events):
    sql("UPDATE audits_auditevent SET actor = 'someone-else' WHERE seq = 3")
    ok, out = verify()
    assert not ok
    assert "FAIL audit event 3: test.event by someone-else: its fields do not match its hash (edited" in out
    assert "audit event 4" not in out


def test_a_deleted_event_is_named(events):
    sql("DELETE FROM audits_auditevent WHERE seq = 2")
    ok, out = verify()
    assert not ok
    assert "FAIL audit event 2: events #2 are missing before #3 (deleted)" in out


def test_reordered_events_are_named(events):
    sql("UPDATE audits_auditevent SET seq = 1000 WHERE seq = 3")
    sql("UPDATE audits_auditevent SET seq = 3 WHERE seq = 4")
    sql("UPDATE audits_auditevent SET seq = 4 WHERE seq = 1000")
    ok, out = verify()
    assert not ok
    assert "FAIL audit event 3: does not follow event #2 in the chain (reordered or inserted)" in out
    assert "FAIL audit event 4: does not follow event #3 in the chain (reordered or inserted)" in out


def test_events_deleted_at_the_end_are_named(events):
    sql("DELETE FROM audits_auditevent WHERE seq >= 4")
    ok, out = verify()
    assert not ok
    assert "the chain's head is #5 but the last event is #3 (events deleted at the end)" in out


def test_a_rewritten_chain_is_caught_by_its_anchor_in_the_log(events):
    with transaction.atomic():
        anchor = audit_anchor()
    entry = json.loads(bytes(LogEntry.objects.get(index=anchor.log_index).data))
    assert entry["kind"] == "audit.anchor" and (entry["seq"], entry["hash"]) == (5, events[-1].hash)
    assert audit_anchor() is None, "nothing new to anchor"

    # Rewrite event 2 and recompute every hash after it, head included: the chain is consistent again...
    from audits.trail import audit_event_fields, audit_event_hash

    prev = events[0].hash
    for event in AuditEvent.objects.order_by("seq")[1:]:
        if event.seq == 2:
            event.object_repr = "nothing happened"
        event.prev_hash = prev
        event.hash = audit_event_hash(audit_event_fields(event))
        AuditEvent.objects.filter(pk=event.pk).update(
            object_repr=event.object_repr, prev_hash=prev, hash=event.hash
        )
        prev = event.hash
    AuditHead.objects.update(hash=prev)
    ok, out = verify()
    # ...but not with the anchor the log holds.
    assert not ok
    assert (
        f"FAIL audit event 5: its hash differs from the one anchored in log entry {anchor.log_index}" in out
    )


def test_anchoring_runs_from_the_command(events):
    out = StringIO()
    call_command("audit_anchor", stdout=out)
    assert "Anchored event #5" in out.getvalue()
    call_command("audit_anchor", stdout=out)
    assert "Nothing new to anchor." in out.getvalue()
    assert AuditAnchor.objects.count() == 1


def test_personal_fields_are_masked_before_hashing(db):
    assert mask_personal(
        {"email": "a@b.c", "nested": [{"first_name": "Ann"}], "status": "x", "password": ""}
    ) == {"email": "[masked]", "nested": [{"first_name": "[masked]"}], "status": "x", "password": ""}
    event = audit_record(
        action="test.event",
        actor="system:test",
        before={"email": "old@example.test"},
        after={"email": "new@example.test", "is_staff": True},
    )
    assert event.before == {"email": "[masked]"} and event.after == {"email": "[masked]", "is_staff": True}
    assert "example.test" not in json.dumps([event.before, event.after, event.detail])


def test_logins_and_failed_logins_are_recorded(client, make_user):
    make_user(None, "ida")
    client.post("/admin/login/", {"username": "ida", "password": "wrong", "next": "/admin/"})
    client.post("/admin/login/", {"username": "ida", "password": "a-long-test-password", "next": "/admin/"})
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "actor", "object_repr"))
    assert actions[:2] == [("auth.login_failed", "", "ida"), ("auth.login", "ida", "ida")]
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.ip == "127.0.0.1" and "wrong" not in json.dumps(failed.detail)


def test_admin_changes_in_other_apps_and_bulk_actions_are_recorded(client, make_user, generator):
    admin = make_user(None, "root", superuser=True)
    client.force_login(admin)
    client.post(
        f"/admin/provenance/generator/{generator.pk}/change/",
        {
            "name": generator.name,
            "provider": "Other Ltd",
            "version": "2",
            "model_card": "{}",
            "hf_metadata": "{}",
            "intended_use": "",
            "data_sources": "",
            "patient_data_note": "",
        },
    )
    from provenance.models import ApiClient

    ApiClient.objects.create(name="pipeline", scopes=["records:write"])
    client.post(
        "/admin/provenance/apiclient/",
        {"action": "revoke_clients", "_selected_action": [str(c.pk) for c in ApiClient.objects.all()]},
    )
    client.get(f"/admin/provenance/apiclient/{ApiClient.objects.get().pk}/change/")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "object_type"))
    assert ("admin.changed", "provenance.generator") in actions
    changed = AuditEvent.objects.get(action="admin.changed", object_type="provenance.generator")
    assert changed.before["provider"] == "Imaging Ltd" and changed.after["provider"] == "Other Ltd"
    assert changed.before["version"] == "1.0" and changed.after["version"] == "2"
    assert ("admin.bulk_action", "provenance.apiclient") in actions
    assert ("admin.viewed", "provenance.apiclient") in actions
    bulk = AuditEvent.objects.get(action="admin.bulk_action")
    assert bulk.detail["action"] == "revoke_clients" and bulk.detail["count"] == 1 and bulk.actor == "root"


def test_the_trail_exports_as_csv_and_json_for_auditors_only(client, make_user, events):
    from audits.roles import Role

    ids = [str(e.pk) for e in events]
    client.force_login(make_user(Role.AUDITOR, "audrey"))
    response = client.post("/admin/audits/auditevent/", {"action": "export_json", "_selected_action": ids})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert [e["seq"] for e in body["events"]] == [1, 2, 3, 4, 5]
    response = client.post("/admin/audits/auditevent/", {"action": "export_csv", "_selected_action": ids})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("seq,at,actor") and len(lines) == 6
    assert AuditEvent.objects.filter(action="audit.exported", actor="audrey").count() == 2

    client.force_login(make_user(Role.APPROVER, "apollo"))
    response = client.post("/admin/audits/auditevent/", {"action": "export_json", "_selected_action": ids})
    assert response.status_code != 200 or response["Content-Type"] != "application/json"


def test_an_exported_trail_rehashes_to_its_own_chain(client, make_user, events):
    from audits.roles import Role
    from audits.trail import EXPORTED_FIELDS, audit_event_hash

    client.force_login(make_user(Role.AUDITOR, "audrey"))
    ids = [str(e.pk) for e in events]
    response = client.post("/admin/audits/auditevent/", {"action": "export_json", "_selected_action": ids})
    exported = json.loads(response.content)["events"]
    prev_hash = GENESIS_HASH
    for row in exported:
        assert tuple(row) == EXPORTED_FIELDS
        assert row["prev_hash"] == prev_hash and audit_event_hash(row) == row["hash"]
        prev_hash = row["hash"]
    assert prev_hash == events[-1].hash


def test_events_cannot_be_changed_or_deleted_in_the_admin(client, make_user, events):
    client.force_login(make_user(None, "root", superuser=True))
    assert client.post(f"/admin/audits/auditevent/{events[0].pk}/delete/").status_code == 403
    response = client.post(f"/admin/audits/auditevent/{events[0].pk}/change/", {"actor": "x"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=events[0].pk).actor == "system:test"
    assert User.objects.filter(username="root").exists()


def test_admin_changes_to_users_keep_personal_fields_masked(client, make_user):
    admin = make_user(None, "root", superuser=True)
    target = make_user(None, "victor")
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{target.pk}/change/",
        {
            "username": "victor",
            "first_name": "Victor",
            "last_name": "Secret",
            "email": "victor@example.test",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="admin.changed", object_type="auth.user")
    assert event.before["email"] == "[masked]" and event.after["last_name"] == "[masked]"
    assert event.after["password"] == "[masked]" and event.after["is_staff"] is True
    assert "Secret" not in json.dumps([event.before, event.after]) and "example.test" not in json.dumps(
        event.after
    )


def test_an_admin_deletion_in_another_app_keeps_the_deleted_row(client, make_user):
    from provenance.models import SourceRule

    rule = SourceRule.objects.create(
        name="AI up-sells", surface="recommendation", declared_origin="synthetic"
    )
    client.force_login(make_user(None, "root", superuser=True))
    response = client.post(f"/admin/provenance/sourcerule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.deleted", object_type="provenance.sourcerule")
    assert event.before["name"] == "AI up-sells" and event.after is None


def test_a_sync_run_is_recorded_and_a_failing_audit_write_rolls_the_run_back(db):
    from magento_bridge.models import SyncRun

    run = SyncRun.objects.create(mode="full", triggered_by="command")
    run.status = "failed"
    run.error = "Magento unreachable"
    run.save(update_fields=["status", "error"])
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "sync.started",
        "sync.failed",
    ]

    sql("DROP TABLE audits_auditevent")  # rolled back with the test's transaction
    with pytest.raises(DatabaseError), transaction.atomic():
        SyncRun.objects.create(mode="incremental")
    assert not SyncRun.objects.filter(mode="incremental").exists()


@pytest.mark.django_db
def test_audit_switch_changes_are_events_with_their_actor():
    from disclosure.services import audit_switch_set

    officer = User.objects.create_user("officer.jane")
    audit_switch_set(store_code="de", surface="cms_block", mode="suppress", actor=officer)
    audit_switch_set(store_code="de", surface="cms_block", mode="suppress", actor=officer)  # no change
    audit_switch_set(store_code="de", surface="cms_block", pause_generation=True)

    events = list(AuditEvent.objects.filter(action="disclosure.switch").order_by("id"))
    assert len(events) == 2
    assert events[0].after["mode"] == "suppress" and events[0].actor == "officer.jane"
    assert events[1].after["pause_generation"] is True
