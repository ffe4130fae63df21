"""Every task is acknowledged late and given back to the queue when its worker process dies."""

from __future__ import annotations

import pytest

from sidecar.celery import app


def our_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_our_tasks_are_found():
    assert "magento_bridge.tasks.magento_sync_task" in our_tasks()


@pytest.mark.parametrize("name", our_tasks())
def test_a_task_killed_with_its_worker_runs_again(name):
    task = app.tasks[name]
    # acks_late alone acknowledges a task whose worker child was SIGKILLed (an OOM kill) as failed:
    # it never runs again. reject_on_worker_lost requeues it.
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_a_task_of_a_worker_killed_as_a_whole_comes_back_but_never_while_it_runs():
    # Redis hands an unacknowledged message to another worker after the visibility timeout (kombu's
    # default is one hour, below the six-hour task limit: a long sync would be delivered twice).
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout > app.conf.task_time_limit
