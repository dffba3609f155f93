"""Helpers for the email tests: run the worker's tasks, script the provider.

`run_email_tasks` runs the ready tasks with django-tasks-db's own `Worker.run_task`
(the code `db_worker` runs for each task) but without its polling loop, which
calls `close_old_connections()` and would drop the test's transaction. The real
`db_worker --batch` command runs in `test_emails_worker.py`.

`anymail_backend` selects Anymail's test backend (Django's test set-up replaces
every MAILERS entry with its locmem backend, whatever tests/settings.py says).
`provider_responses` scripts it through its documented `anymail_test_response` hook, set from
Anymail's `pre_send` signal: each send takes the next scripted response (an
AnymailAPIError to raise, or a recipient-status dict), then the default "sent".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail
from django.tasks import TaskResultStatus
from django.test import TestCase
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


@pytest.fixture
def anymail_backend(settings: Any) -> None:
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    mail.outbox = []


def run_email_tasks(*, after_backoff: bool = False) -> int:
    """Run the tasks ready now (or, `after_backoff`, also the deferred ones) once.

    Tasks those tasks enqueue wait for the next call: each call is one round.
    For tests wrapped in a transaction (the default `db` fixture).
    """
    worker = Worker(
        queue_names=["*"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="pytest", excluded_queue_names=[],
    )  # fmt: skip
    tasks = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    if not after_backoff:
        tasks = tasks.ready()
    round_ = list(tasks.order_by("enqueued_at"))
    for db_task in round_:
        db_task.claim(worker.worker_id)
        # The worker runs in autocommit mode, where on-commit hooks (the retries'
        # enqueue) run at once; inside the test's transaction they must be run.
        with TestCase.captureOnCommitCallbacks(execute=True):
            worker.run_task(db_task)
        db_task.refresh_from_db()
        assert db_task.status == TaskResultStatus.SUCCESSFUL, db_task.traceback
    return len(round_)


def sent_messages() -> list[Any]:
    """Messages the test backend accepted (it also records the ones it raised on)."""
    return [
        message
        for message in getattr(mail, "outbox", [])
        if getattr(message, "anymail_status", None) and message.anymail_status.status == {"sent"}
    ]


def api_error(status_code: int | None, text: str = "provider says no") -> AnymailAPIError:
    """The error Anymail raises for an HTTP error reply (or, without a status, no reply)."""
    if status_code is None:
        return AnymailAPIError(text)
    response = requests.Response()
    response.status_code, response.reason, response._content = status_code, text, text.encode()
    return AnymailAPIError(text, status_code=status_code, response=response)


def refused(email: str) -> dict[str, Any]:
    return {"recipient_status": {email: AnymailRecipientStatus(message_id=None, status="rejected")}}


@contextmanager
def provider_responses(*responses: Any) -> Iterator[list[Any]]:
    script = list(responses)

    def respond(sender: Any, message: Any, esp_name: str, **kwargs: Any) -> None:
        if script:
            message.anymail_test_response = script.pop(0)

    pre_send.connect(respond, weak=False, dispatch_uid="tests.provider_responses")
    try:
        yield script
    finally:
        pre_send.disconnect(dispatch_uid="tests.provider_responses")


def rendered(emails: Any) -> list[Any]:
    """The outbox rows, rendered as the worker renders a bulk change's rows before sending."""
    from booking.emails import rendering

    rows = list(emails)
    rendering.render_pending(rows)
    return rows
