"""Sending outbox rows through the configured mailer (`MAILERS["default"]`).

For each row: claim it with a conditional update (`queued` → `sending`, one
statement, so of two workers running the same task only one sends), send it
with no transaction or lock held during the provider call, then record the
outcome:

- accepted → `sent`, with the provider's message id (tracking webhooks find
  the row by it);
- transient error (an Anymail API error with a 5xx or 429 status or none at
  all, a connection error, a 4xx SMTP reply) → back to `queued` with a backoff,
  retried by one deferred task per batch, until `EMAIL_MAX_ATTEMPTS`;
- permanent error (refused or invalid recipients, any other 4xx, a message
  the provider cannot take) → `failed`, shown in the admin, resendable.

When the provider looks down (several transient errors in a row), the rest of
the batch is not tried: it is rescheduled with the failed rows, so an outage
costs a few calls per batch rather than a timeout per email.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db.models import F
from django.utils import timezone

from booking.emails import outbox
from booking.emails.models import EmailStatus, OutboxEmail

logger = logging.getLogger(__name__)

FETCH_CHUNK = 100
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


def deliver(ids: Iterable[int], *, now: datetime | None = None) -> dict[str, int]:
    """Send the still-queued rows among `ids`; returns counts by outcome."""
    ids = sorted(ids)
    outcome: Counter[str] = Counter()
    # Rows to retry, grouped by their backoff: one deferred task per group.
    retries: defaultdict[timedelta, list[int]] = defaultdict(list)
    retry_at: dict[timedelta, datetime] = {}
    streak = 0
    with mailers.default as connection:
        for start in range(0, len(ids), FETCH_CHUNK):
            chunk = ids[start : start + FETCH_CHUNK]
            rows = OutboxEmail.objects.filter(pk__in=chunk, status=EmailStatus.QUEUED).order_by(
                "pk"
            )
            for email in rows:
                moment = now or timezone.now()
                if streak >= OUTAGE_THRESHOLD:
                    result, delay = "postponed", _postpone(email, moment)
                elif not _claim(email, moment):
                    result, delay = "skipped", None  # another worker has it
                else:
                    result, delay = _send(connection, email, moment)
                    streak = streak + 1 if result == "retry" else 0
                outcome[result] += 1
                if delay is not None:
                    retries[delay].append(email.pk)
                    retry_at[delay] = moment + delay
    for delay, pks in retries.items():
        outbox.enqueue_ids(pks, run_after=retry_at[delay])
    return dict(outcome)


def _claim(email: OutboxEmail, now: datetime) -> bool:
    claimed = OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.QUEUED).update(
        status=EmailStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    email.attempts += 1
    return claimed == 1


def _postpone(email: OutboxEmail, now: datetime) -> timedelta:
    """Reschedule an untried row (no attempt spent) with the batch's failures."""
    delay = backoff(email.attempts + 1)
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.QUEUED).update(
        next_attempt_at=now + delay, updated_at=now
    )
    return delay


def _send(connection: Any, email: OutboxEmail, now: datetime) -> tuple[str, timedelta | None]:
    message = as_message(email)
    try:
        connection.send_messages([message])
    # The worker's boundary: whatever the mailer raises is recorded on the row
    # (and classified), so one bad email never stops the rest of the batch.
    except Exception as error:
        return _record_error(email, error, now)
    status = getattr(message, "anymail_status", None)
    message_id = str(status.message_id) if status and status.message_id is not None else ""
    _finish(email, now, status=EmailStatus.SENT, sent_at=now, last_error="",
            provider_message_id=message_id)  # fmt: skip
    return "sent", None


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
    # Conditional on our claim: a sweep that judged us dead owns the row now.
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
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
