"""Writing to the outbox and handing rows to the worker.

`queue` runs inside the caller's transaction: it inserts the rows in batches
(a duplicate of an existing email is dropped by the unique constraint) and asks
for one task per batch once the transaction commits. Nothing is sent for a
rolled-back change: the rows and the on-commit hook vanish with it.

If the process dies between the commit and the enqueue, or a worker dies while
sending, the rows stay `queued` / `sending`; `sweep` (the `send_queued_emails`
command, run every few minutes) hands them to the worker again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from itertools import batched
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone

from booking.emails.models import EmailStatus, OutboxEmail
from booking.emails.tasks import enqueue_batch, enqueue_ids
from booking.models import BookingRequest, BookingSettings, Business, Session
from booking.services.ids import any_of

logger = logging.getLogger(__name__)

# Emails per INSERT (a lifecycle batch of 2000 bookings takes two; a client's own
# cancellation, which comes one booking at a time, up to 2 emails).
INSERT_BATCH_SIZE = 1000
# The sweep leaves alone what a healthy worker is about to pick up or is sending
# right now (one provider call: Anymail's requests time out after 30 s). Swept
# every minute (`send_queued_emails --every 60`), an email stranded by a killed
# worker goes out within 5 minutes of a worker running again.
STALE_AFTER = timedelta(minutes=4)
# A task of the email queue still running after this long lost its worker (killed
# or crashed: one task sends one batch, minutes at most). The sweep marks it failed
# so the task table tells the truth; its emails were handed back on their own.
LOST_TASK_AFTER = timedelta(hours=1)
EMAIL_QUEUE = "email"
# Rows per task (and per UPDATE) when resending or sweeping.
CHUNK = 500


def new_batch() -> uuid.UUID:
    return uuid.uuid4()


def queue(emails: Sequence[OutboxEmail], *, batch: uuid.UUID) -> None:
    """Insert `emails` (all of one `batch`) and send them after the transaction commits."""
    if not emails:
        return
    OutboxEmail.objects.bulk_create(emails, batch_size=INSERT_BATCH_SIZE, ignore_conflicts=True)
    transaction.on_commit(partial(enqueue_batch, batch), robust=True)


def queue_to_render(
    booking_ids: Sequence[int],
    *,
    kind: str,
    dedupe_key: str,
    batch: uuid.UUID,
    now: datetime,
    render: dict[str, Any],
    if_business_sends: bool = False,
) -> None:
    """Queue one email of `kind` to each booking's client, to be rendered by the worker.

    For a bulk change, in its transaction: one `INSERT … SELECT` per batch of
    bookings writes the rows from the bookings' own columns (reference, address,
    business), with `render` (what the templates need beyond the booking's
    recorded state) and no subject or body yet (`booking.emails.rendering`). A
    duplicate of an existing email is dropped by the unique constraint, as in `queue`.
    `if_business_sends`: only the bookings whose business sends cancellation emails
    (read here, so the caller need not load the bookings' policy).
    """
    if not booking_ids:
        return
    quote, ops = connection.ops.quote_name, connection.ops
    meta = OutboxEmail._meta
    given: dict[str, Any] = {
        "kind": kind, "subject": "", "text_body": "", "html_body": "", "render": render,
        "dedupe_key": dedupe_key[:64], "batch": batch, "status": EmailStatus.QUEUED,
        "attempts": 0, "last_error": "", "provider_message_id": "",
        "created_at": now, "updated_at": now, "next_attempt_at": now,
    }  # fmt: skip
    selected = {"booking_id": "b.id", "business_id": "s.business_id",
                "reference": "b.reference", "recipient": "b.client_email",
                "reply_to": "z.contact_email"}  # fmt: skip
    columns = [quote(str(_field(name).column)) for name in [*given, *selected]]
    values = [_field(name).get_db_prep_save(value, connection) for name, value in given.items()]
    ignore = ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])
    prefix = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {quote(meta.db_table)} "
        f"({', '.join(columns)}) SELECT {', '.join(['%s'] * len(values))}, "
        f"{', '.join(selected.values())} "
        f"FROM {quote(BookingRequest._meta.db_table)} b "
        f"JOIN {quote(Session._meta.db_table)} s ON s.id = b.session_id "
        f"JOIN {quote(Business._meta.db_table)} z ON z.id = s.business_id "
    )
    if if_business_sends:
        prefix += (
            f"JOIN {quote(BookingSettings._meta.db_table)} p ON p.business_id = s.business_id "
            f"WHERE p.{quote(_column(BookingSettings, 'send_cancellation_emails'))} AND "
        )
    else:
        prefix += "WHERE "
    inserted = 0
    with connection.cursor() as cursor:
        for chunk in batched(booking_ids, INSERT_BATCH_SIZE):
            where, params = any_of(connection, "b.id", chunk)
            cursor.execute(f"{prefix}{where} {ignore}", [*values, *params])
            inserted += max(cursor.rowcount, 0)
    if inserted:  # none when the business sends no emails, or all were queued already
        transaction.on_commit(partial(enqueue_batch, batch), robust=True)


def _field(name: str) -> Field:
    return cast(Field, OutboxEmail._meta.get_field(name))


def _column(model: Any, name: str) -> str:
    return str(cast(Field, model._meta.get_field(name)).column)


def resend(emails: QuerySet[OutboxEmail], *, now: datetime | None = None) -> int:
    """Queue failed emails again with a fresh retry budget; returns how many.

    Only `failed` rows are touched (the rest of the selection is left as it is),
    under a conditional update, so two staff clicking at once queue them once.
    """
    now = now or timezone.now()
    ids = list(emails.filter(status=EmailStatus.FAILED).order_by("pk").values_list("pk", flat=True))
    count = 0
    with transaction.atomic():
        for chunk in batched(ids, CHUNK):
            count += OutboxEmail.objects.filter(pk__in=chunk, status=EmailStatus.FAILED).update(
                status=EmailStatus.QUEUED, attempts=0, next_attempt_at=now, updated_at=now
            )
            enqueue_ids(chunk)
    return count


def sweep(*, now: datetime | None = None, stale_after: timedelta = STALE_AFTER) -> int:
    """Hand rows stranded by a crash back to the worker; returns how many.

    Stranded: `queued` and due for longer than `stale_after` (their task was
    never enqueued, or was lost), or `sending` for longer than that (the worker
    died mid-send). A `sending` row goes back to `queued`: if the provider had in
    fact accepted it before the crash, the client gets it twice, which beats
    never — Anymail offers no idempotency key across providers to prevent it.
    Duplicate tasks are harmless: each row is claimed before it is sent.
    """
    now = now or timezone.now()
    before = now - stale_after
    ids = list(
        OutboxEmail.objects.stranded(before=before).order_by("pk").values_list("pk", flat=True)
    )
    with transaction.atomic():
        for chunk in batched(ids, CHUNK):
            OutboxEmail.objects.filter(
                pk__in=chunk, status=EmailStatus.SENDING, updated_at__lt=before
            ).update(status=EmailStatus.QUEUED, next_attempt_at=now, updated_at=now)
            enqueue_ids(chunk)
    if ids:
        logger.warning("Email sweep re-enqueued %d stranded email(s)", len(ids))
    return len(ids)


def fail_lost_tasks(*, now: datetime | None = None) -> int:
    """Mark email tasks whose worker died mid-run as failed; returns how many."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    lost = DBTaskResult.objects.filter(
        queue_name=EMAIL_QUEUE,
        status=TaskResultStatus.RUNNING,
        started_at__lt=now - LOST_TASK_AFTER,
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="booking.emails.outbox.WorkerLost",
        traceback=(
            f"The worker running this task stopped more than {LOST_TASK_AFTER} ago without "
            "finishing it (killed or crashed). The outbox sweep hands its emails back."
        ),
    )
    if lost:
        logger.warning("Email sweep marked %d task(s) of lost workers failed", lost)
    return lost
