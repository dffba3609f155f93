"""Sending outbox rows through the configured mailer (`MAILERS["default"]`).

Rows are claimed in chunks of CLAIM_CHUNK: one short transaction locks the
chunk's still-queued rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
write transaction serialises claims) and marks them `sending`, so of two
workers running the same task only one claims a row. Each row is then sent
with no transaction or lock held during the provider call, and the outcomes
are recorded:

- accepted → `sent`, with the provider's message id (tracking webhooks find
  the row by it);
- transient error (an Anymail API error with a 5xx or 429 status or none at
  all, a connection error, a 4xx SMTP reply) → back to `queued` with a backoff,
  retried by one deferred task per batch, until `EMAIL_MAX_ATTEMPTS`;
- permanent error (refused or invalid recipients, any other 4xx, a message
  the provider cannot take) → `failed`, shown in the admin, resendable.

Each accepted row is marked `sent` as soon as the provider accepts it (one
UPDATE by primary key, one commit), so a worker that dies mid-chunk has at most
the one email in flight unrecorded: the sweep queues the chunk's unsent rows
again, and only that one may go out twice. Claiming in chunks still saves a
commit per email. On PostgreSQL that commit doesn't wait for the WAL flush
(`_without_flush_wait`: what that trades, and only on a server crash).

When the provider looks down (several transient errors in a row), the rest of
the batch is not tried: it is rescheduled with the failed rows (claimed rows
are released without spending an attempt), so an outage costs a few calls per
batch rather than a timeout per email.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from itertools import batched
from typing import Any, Protocol, cast

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Field
from django.utils import timezone

from booking.emails import rendering
from booking.emails.models import EmailStatus, OutboxEmail

logger = logging.getLogger(__name__)

# Rows claimed and rendered together (each send is still recorded on its own). A
# larger chunk spreads the claim's and the rendering's few queries over more emails
# (200: ~12 % faster than 50 on the benchmark); a killed worker's claimed but untried
# rows wait for the sweep (minutes) but are never sent twice.
CLAIM_CHUNK = 200
# Consecutive transient failures after which the provider is taken to be down.
OUTAGE_THRESHOLD = 3
MAX_BACKOFF = timedelta(hours=1)
ERROR_MAX_LENGTH = 2000


def max_attempts() -> int:
    return settings.EMAIL_MAX_ATTEMPTS


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: the base delay doubled per attempt, capped."""
    base = timedelta(seconds=settings.EMAIL_RETRY_BASE_DELAY)
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def is_transient(error: BaseException) -> bool:
    """Might the same message go through later? (False: it never will as it is.)"""
    if isinstance(error, AnymailRecipientsRefused | AnymailInvalidAddress):
        return False
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is None or status == 429 or status >= 500
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Other Anymail errors (an unsupported feature, serialisation) say the message
    # itself is wrong. Connection errors (OSError covers requests' and smtplib's)
    # and anything unforeseen are retried, within the attempt budget.
    return not isinstance(error, AnymailError)


def as_message(email: OutboxEmail) -> EmailMultiAlternatives:
    # Anymail's options (Django's own backends ignore them): shown in the
    # provider's dashboard and echoed back by its tracking webhooks.
    message = AnymailMessage(
        email.subject,
        email.text_body,
        settings.DEFAULT_FROM_EMAIL,
        [email.recipient],
        reply_to=[email.reply_to] if email.reply_to else [],
        metadata={"outbox_id": str(email.pk), "booking_reference": email.reference},
        tags=[email.kind],
    )
    message.attach_alternative(email.html_body, "text/html")
    return message


class Retry(Protocol):
    def __call__(self, ids: Iterable[int], *, run_after: datetime) -> None: ...


def deliver(ids: Iterable[int], *, retry: Retry, now: datetime | None = None) -> dict[str, int]:
    """Send the still-queued rows among `ids`; returns counts by outcome.

    Rows to try again later go to `retry`, one call per backoff delay (the
    worker's tasks pass `booking.emails.tasks.enqueue_ids`).
    """
    ids = sorted(ids)
    run = _Run()
    with mailers.default as connection:
        for chunk in batched(ids, CLAIM_CHUNK):
            moment = now or timezone.now()
            if run.provider_down:
                queued = OutboxEmail.objects.filter(pk__in=chunk, status=EmailStatus.QUEUED)
                for email in queued.order_by("pk"):
                    run.add(email, "postponed", _postpone(email, moment), moment)
                continue
            claimed = _claim(chunk, moment)
            # A bulk change's rows are rendered here, outside its transaction (one
            # an erasure emptied after the claim is dropped: it is failed, never sent).
            ready = rendering.render_pending(claimed)
            if len(ready) < len(claimed):
                run.outcome["withdrawn"] += len(claimed) - len(ready)
            claimed = ready
            for email in claimed:
                if run.provider_down:
                    run.add(email, "postponed", _release(email, moment), moment)
                    continue
                result, delay = _send(connection, email, moment)
                run.streak = run.streak + 1 if result == "retry" else 0
                run.add(email, result, delay, moment)
    for delay, pks in run.retries.items():
        retry(pks, run_after=run.retry_at[delay])
    return dict(run.outcome)


class _Run:
    """One delivery's tally: outcomes, rows to retry grouped by backoff, the failure streak."""

    def __init__(self) -> None:
        self.outcome: Counter[str] = Counter()
        self.retries: defaultdict[timedelta, list[int]] = defaultdict(list)
        self.retry_at: dict[timedelta, datetime] = {}
        self.streak = 0

    @property
    def provider_down(self) -> bool:
        return self.streak >= OUTAGE_THRESHOLD

    def add(self, email: OutboxEmail, result: str, delay: timedelta | None, now: datetime) -> None:
        self.outcome[result] += 1
        if delay is not None:
            self.retries[delay].append(email.pk)
            self.retry_at[delay] = now + delay


def _claim(chunk: Sequence[int], now: datetime) -> list[OutboxEmail]:
    """Mark the chunk's queued rows `sending` (one attempt each) and return them.

    Under the rows' locks, in one short transaction: a row another worker is
    claiming is skipped (not waited for), and one it already claimed is no
    longer queued, so no row is ever claimed twice.
    """
    with transaction.atomic():
        rows = list(
            OutboxEmail.objects.filter(pk__in=chunk, status=EmailStatus.QUEUED)
            .select_for_update(skip_locked=True)
            .order_by("pk")
        )
        if rows:
            OutboxEmail.objects.filter(
                pk__in=[row.pk for row in rows], status=EmailStatus.QUEUED
            ).update(status=EmailStatus.SENDING, attempts=F("attempts") + 1, updated_at=now)
    for row in rows:
        row.status, row.attempts = EmailStatus.SENDING, row.attempts + 1
    return rows


def _postpone(email: OutboxEmail, now: datetime) -> timedelta:
    """Reschedule an untried row (no attempt spent) with the batch's failures."""
    delay = backoff(email.attempts + 1)
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.QUEUED).update(
        next_attempt_at=now + delay, updated_at=now
    )
    return delay


def _release(email: OutboxEmail, now: datetime) -> timedelta:
    """Give back a claimed row that was not tried (its attempt is not spent)."""
    email.attempts -= 1
    delay = backoff(email.attempts + 1)
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.QUEUED, attempts=F("attempts") - 1,
        next_attempt_at=now + delay, updated_at=now,
    )  # fmt: skip
    return delay


def _send(connection: Any, email: OutboxEmail, now: datetime) -> tuple[str, timedelta | None]:
    """Send one claimed row and record the outcome at once (its own commit), so a
    worker killed now can resend only the email in flight."""
    message = as_message(email)
    try:
        connection.send_messages([message])
    # The worker's boundary: whatever the mailer raises is recorded on the row
    # (and classified), so one bad email never stops the rest of the batch.
    except Exception as error:
        return _record_error(email, error, now)
    status = getattr(message, "anymail_status", None)
    message_id = status.message_id if status else None
    _mark_sent(email.pk, "" if message_id is None else str(message_id), now)
    return "sent", None


def _mark_sent(pk: int, message_id: str, now: datetime) -> None:
    """Record an accepted row, with the provider's id: one UPDATE by primary key.

    Hand-written (the statement is built once) because it runs once per email and
    the ORM's query building cost as much as the send. Conditional on our claim:
    a sweep that judged us dead owns the row now.
    """
    moment = OutboxEmail._meta.get_field("sent_at").get_db_prep_value(now, db_connection)
    with db_connection.cursor() as cursor:
        cursor.execute(_mark_sent_sql(_without_flush_wait()), [
            EmailStatus.SENT, moment, "", message_id, moment, pk, EmailStatus.SENDING
        ])  # fmt: skip


# Joined to the mark's UPDATE: its commit does not wait for the WAL flush. Local to
# the statement's own transaction (autocommit), so the session is never changed:
# nothing lingers on a connection that a pooler (PgBouncer) hands to others.
NO_FLUSH_WAIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait"


def _without_flush_wait() -> bool:
    """Whether the mark's commit may return before the WAL is flushed (PostgreSQL).

    Waiting for the disk's flush was most of the time per email, and the guarantee
    does not need it: the server has the commit once it returns, so a killed worker
    loses no mark. Only a crash of the database server itself can lose the latest
    marks (at most three times `wal_writer_delay`, 0.6 s by default, and only marks
    made after the last commit that waited, such as a chunk's claim): those rows go
    back to `sending` and the sweep sends them again. Only in autocommit mode (the
    worker's), where the statement is its own transaction; inside a caller's
    transaction the setting would reach the caller's commit. `EMAIL_ASYNC_COMMIT=0`
    turns it off.
    """
    return bool(
        settings.EMAIL_ASYNC_COMMIT
        and db_connection.vendor == "postgresql"
        and db_connection.get_autocommit()
    )


@cache
def _mark_sent_sql(without_flush_wait: bool) -> str:
    meta, quote = OutboxEmail._meta, db_connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ["status", "sent_at", "last_error", "provider_message_id", "updated_at"]
    assignments = ", ".join(
        f"{quote(str(cast(Field, meta.get_field(name)).column))} = %s" for name in columns
    )
    joined = f" FROM {NO_FLUSH_WAIT}" if without_flush_wait else ""
    return f"UPDATE {table} SET {assignments}{joined} WHERE {table}.id = %s AND {table}.status = %s"


def _record_error(
    email: OutboxEmail, error: Exception, now: datetime
) -> tuple[str, timedelta | None]:
    text = _describe(error)
    if is_transient(error) and email.attempts < max_attempts():
        delay = backoff(email.attempts)
        logger.warning("Email %s attempt %d failed, retrying in %s: %s",
                       email.pk, email.attempts, delay, text)  # fmt: skip
        _finish(email, now, status=EmailStatus.QUEUED, next_attempt_at=now + delay, last_error=text)
        return "retry", delay
    if is_transient(error):
        text = f"Gave up after {email.attempts} attempts: {text}"
    logger.error("Email %s to %s failed: %s", email.pk, email.recipient, text)
    _finish(email, now, status=EmailStatus.FAILED, last_error=text)
    return "failed", None


def _finish(email: OutboxEmail, now: datetime, **fields: Any) -> None:
    _finish_many([email.pk], now, **fields)


def _finish_many(pks: list[int], now: datetime, **fields: Any) -> None:
    # Conditional on our claim: a sweep that judged us dead owns the row now.
    OutboxEmail.objects.filter(pk__in=pks, status=EmailStatus.SENDING).update(
        updated_at=now, **fields
    )


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    prefix = f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")
    try:
        text = str(error)
    # Anymail's __str__ reads the provider's response, which may be half-formed.
    except Exception:
        text = repr(error.args)
    return f"{prefix}: {text}"[:ERROR_MAX_LENGTH]


def pending_ids(batch: str) -> Sequence[int]:
    return list(
        OutboxEmail.objects.filter(batch=batch, status=EmailStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
