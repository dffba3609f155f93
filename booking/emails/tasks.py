"""The email tasks, on the `default` TASKS backend (django-tasks-db) and its
`email` queue: run them with `manage.py db_worker --queue-name email` (or `'*'`).

Both are safe to run twice or concurrently: each row is claimed before it is
sent (see `booking.emails.delivery`).
"""

from __future__ import annotations

from django.tasks import task

from booking.emails import delivery

QUEUE = "email"


@task(queue_name=QUEUE)
def send_batch(batch: str) -> dict[str, int]:
    """Send the emails queued together by one state change (one batch of rows)."""
    return delivery.deliver(delivery.pending_ids(batch))


@task(queue_name=QUEUE)
def send_emails(ids: list[int]) -> dict[str, int]:
    """Send these emails (retries, resends and the sweep's leftovers)."""
    return delivery.deliver(ids)
