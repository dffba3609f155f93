"""The email tasks, on the `default` TASKS backend (django-tasks-db) and its
`email` queue: run them with `manage.py db_worker --queue-name email` (or `'*'`).

Both are safe to run twice or concurrently: each row is claimed before it is
sent (see `booking.emails.delivery`). `enqueue_batch` and `enqueue_ids` hand
rows to them; the tasks pass `enqueue_ids` to `delivery.deliver` for retries, so
delivery never imports the tasks that call it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.db import transaction
from django.tasks import task

from booking.emails import delivery

QUEUE = "email"


def enqueue_batch(batch: uuid.UUID) -> None:
    """The task for one state change's emails (called once that change commits)."""
    send_batch.enqueue(str(batch))


def enqueue_ids(ids: Iterable[int], *, run_after: datetime | None = None) -> None:
    """One task for these rows, after commit (immediately in autocommit mode)."""
    ids = sorted(ids)
    if not ids:
        return
    task = send_emails.using(run_after=run_after) if run_after else send_emails
    transaction.on_commit(partial(task.enqueue, ids), robust=True)


@task(queue_name=QUEUE)
def send_batch(batch: str) -> dict[str, int]:
    """Send the emails queued together by one state change (one batch of rows)."""
    return delivery.deliver(delivery.pending_ids(batch), retry=enqueue_ids)


@task(queue_name=QUEUE)
def send_emails(ids: list[int]) -> dict[str, int]:
    """Send these emails (retries, resends and the sweep's leftovers)."""
    return delivery.deliver(ids, retry=enqueue_ids)
