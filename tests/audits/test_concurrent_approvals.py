"""Two approvers act on one review at the same moment, each on their own MariaDB connection: one wins,
the other is told someone acted first; nothing is approved twice and the chain stays intact.

The whole schema is migrated into a fresh MariaDB database that every model is routed to, as in
production; the threads commit for real, so the test isolates through that database, not a
test-case transaction (see tests/provenance/conftest.py for the same pattern).
"""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connections

from audits.models import AuditEvent, Review, ReviewStatus
from audits.services import ReviewConflict, review_approve, review_open, review_submit
from provenance.models import ContentItem

ALIAS = "workspace_mariadb"


class EverythingTo:
    def __init__(self, alias: str) -> None:
        self.alias = alias

    def db_for_read(self, model, **hints):
        return self.alias

    def db_for_write(self, model, **hints):
        return self.alias

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == self.alias


@pytest.fixture
def workspace_mariadb(mariadb_url, settings, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        configured = connections.configure_settings(
            {"default": connections.settings["default"], ALIAS: mariadb_url.django_settings()}
        )
        connections.settings[ALIAS] = configured[ALIAS]
        settings.DATABASE_ROUTERS = [EverythingTo(ALIAS)]
        call_command("migrate", database=ALIAS, verbosity=0, stdout=StringIO())
        try:
            yield ALIAS
        finally:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]


def test_two_approvers_at_once_one_wins_the_other_is_told(workspace_mariadb):
    group = {name: Group.objects.get(name=name) for name in ("Reviewer", "Approver")}
    reviewer = User.objects.create_user("rita", is_staff=True)
    reviewer.groups.add(group["Reviewer"])
    approvers = []
    for name in ("anton", "berta"):
        user = User.objects.create_user(name, is_staff=True)
        user.groups.add(group["Approver"])
        approvers.append(User.objects.get(pk=user.pk))
    item = ContentItem.objects.create(
        store_code="default", surface="cms_page", magento_id=1, origin="synthetic", content_sha256="a" * 64
    )
    review = review_open(content_item=item)
    review = review_submit(
        review=review,
        actor=User.objects.get(pk=reviewer.pk),
        expected_version=review.version,
        comment="Checked the evidence and the badge",
    )
    version = review.version

    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def approve(actor: User) -> None:
        try:
            mine = Review.objects.get(pk=review.pk)
            barrier.wait()
            review_approve(
                review=mine,
                actor=actor,
                expected_version=version,
                comment="Checked the proposal against the evidence",
            )
            outcomes[actor.username] = "approved"
        except ReviewConflict as exc:
            outcomes[actor.username] = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcomes[actor.username] = exc
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=approve, args=(a,)) for a in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [name for name, outcome in outcomes.items() if outcome == "approved"]
    losers = [outcome for outcome in outcomes.values() if outcome != "approved"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], ReviewConflict), outcomes
    assert "Someone else acted on this review first" in str(losers[0])
    final = Review.objects.get(pk=review.pk)
    assert final.status == ReviewStatus.APPROVED and final.version == version + 1
    assert final.decided_by.username == winners[0]
    assert AuditEvent.objects.filter(action="review.approved").count() == 1
    assert AuditEvent.objects.filter(action="review.refused").count() == 1

    out = StringIO()
    call_command("provenance_verify", stdout=out)
    assert "OK" in out.getvalue()
