"""The emails a state change owes, written to the outbox in the caller's transaction.

The lifecycle services call these inside their transaction, once per batch, so
that an email exists exactly when the change it reports was committed; the
outbox rows are inserted in batches and sent by one task per batch, enqueued
on commit (`booking.emails.outbox.queue`).

Who is told what (where the business's `send_cancellation_emails` is on, except
for the no-show fee notice):

- a client's own cancellation: the client (a confirmation) and the business's
  `contact_email` (a notice);
- a staff cancellation: the client, unless staff unticked "notify client"; when
  staff cancelled the whole session, the email says the business cancelled it;
- a staff move to another session: the client, with the old and the new time;
- a staff soft delete or purge of an active future booking: the client (the
  lifecycle passes only those bookings, and none when "notify client" is off);
- a no-show that owes a fee: the client, unless staff unticked "notify client"
  (a fee notice, sent whatever `send_cancellation_emails` says).
- a restore of an active future booking: the client, told their place is back
  (likewise only those, and none when "notify client" is off);
- a waitlist offer: the waiting client, with a signed link to claim the spot or
  pass it on; a booking made from the waitlist (a claim, or an automatic
  enrolment): its client. Both whatever `send_cancellation_emails` says: they
  are not about cancellations, and the client is waiting for them.
- a session the business cancelled: each client still on its waitlist (waiting,
  or holding an offer), told that the class is cancelled and the entry closed,
  unless staff unticked "notify client".

The bulk changes' rows are rendered by the worker, outside the transaction
(`booking.emails.rendering`); a client's own cancellation, a link request (one
booking each) render theirs now.

Each row carries a dedupe key naming the state change it reports, so running
a hook twice for the same change (a double submit that got through, a retried
request) queues each email once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from booking.emails import messages, outbox
from booking.emails.models import EmailKind, OutboxEmail
from booking.models import BookingRequest, Session
from booking.services import rules
from booking.waitlist.models import WaitlistEntry

# Requests for a cancellation link within one window send one email.
LINK_WINDOW = timedelta(minutes=5)


def _sends_emails(booking: BookingRequest) -> bool:
    return booking.session.business.booking_settings.send_cancellation_emails


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "-"


def bookings_cancelled(
    bookings: Sequence[BookingRequest],
    *,
    by_client: bool,
    notify_client: bool,
    session_cancelled: bool = False,
) -> None:
    """Queue the cancellation emails: the client's, and the business's for a client's own.

    `session_cancelled`: staff cancelled the whole session, and the client's email
    says so (the business cancelled the class, not the client's booking alone).
    """
    if not (by_client or notify_client):
        return
    now = timezone.now()
    batch = outbox.new_batch()
    if not by_client:
        # The business's switch is read by the insert: the bookings' policy need not be loaded.
        kind = EmailKind.SESSION_CANCELLED if session_cancelled else EmailKind.STAFF_CANCELLED
        _queue_to_render(bookings, kind, lambda b: f"cancelled:{_stamp(b.cancelled_at)}",
                         batch=batch, now=now, if_business_sends=True)  # fmt: skip
        return
    emails: list[OutboxEmail] = []
    for booking in [booking for booking in bookings if _sends_emails(booking)]:
        key = f"cancelled:{_stamp(booking.cancelled_at)}"
        emails.append(messages.build(booking, EmailKind.CLIENT_CANCELLED,
                                     dedupe_key=key, batch=batch, now=now))  # fmt: skip
        if booking.session.business.contact_email:
            emails.append(messages.build(booking, EmailKind.BUSINESS_NOTICE,
                                         dedupe_key=key, batch=batch, now=now))  # fmt: skip
    outbox.queue(emails, batch=batch)


def _queue_to_render(
    bookings: Sequence[BookingRequest],
    kind: EmailKind,
    key_of: Callable[[BookingRequest], str],
    *,
    batch: uuid.UUID,
    now: datetime,
    reason: str | None = None,
    purged: bool = False,
    previous: dict[int, Session] | None = None,
    if_business_sends: bool = False,
) -> None:
    """Queue `kind` to each booking's client, rendered later by the worker: one insert
    per distinct dedupe key and previous session (a bulk change has one or a few).
    `if_business_sends`: only where the business sends cancellation emails."""
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for booking in bookings:
        before = previous[booking.pk].pk if previous else None
        groups[(key_of(booking), before)].append(booking.pk)
    sessions = {s.pk: s for s in (previous or {}).values()}
    for (key, before), ids in groups.items():
        render: dict[str, Any] = {"reason": reason, "purged": purged}
        if before is not None:
            session = sessions[before]
            render["previous_title"] = session.title
            tz = session.business.timezone
            render["previous_when"] = messages.local_time(session.starts_at, tz)
        outbox.queue_to_render(ids, kind=kind, dedupe_key=key, batch=batch, now=now,
                               render=render, if_business_sends=if_business_sends)  # fmt: skip


def bookings_removed(
    bookings: Sequence[BookingRequest], *, purged: bool, reason: str | None = None
) -> None:
    """Queue the notice to clients whose active future booking staff removed.

    `reason` is the purge's reason (a purge records it only in the history);
    a soft delete's is the booking's `deletion_reason`.
    """
    now = timezone.now()
    _queue_to_render(
        [booking for booking in bookings if _sends_emails(booking)],
        EmailKind.REMOVED,
        lambda b: "purged" if purged else f"deleted:{_stamp(b.deleted_at)}",
        batch=outbox.new_batch(),
        now=now,
        purged=purged,
        reason=reason,
    )


def no_show_fees(bookings: Sequence[BookingRequest]) -> None:
    """Queue the notice to clients marked no-show who owe a fee (the caller passes those)."""
    _queue_to_render(bookings, EmailKind.NO_SHOW_FEE, lambda b: "no_show",
                     batch=outbox.new_batch(), now=timezone.now())  # fmt: skip


def bookings_moved(
    bookings: Sequence[BookingRequest],
    *,
    previous: dict[int, Session],
    reason: str,
    now: datetime,
) -> None:
    """Queue the notice to clients whose bookings staff moved: the old and the new time.

    Sent whatever `send_cancellation_emails` says (that switch is about
    cancellations; a client must learn that their session changed), unless staff
    unticked "notify client" (the caller then does not call this).
    """
    _queue_to_render(
        bookings,
        EmailKind.MOVED,
        lambda b: f"moved:{b.session_id}:{_stamp(now)}",
        batch=outbox.new_batch(),
        now=now,
        reason=reason,
        previous=previous,
    )


def bookings_restored(bookings: Sequence[BookingRequest], *, reason: str, now: datetime) -> None:
    """Queue "your place is back" to clients whose active future booking was restored.

    `reason` is the restore's (told to the client, as the confirmation page says).
    """
    _queue_to_render(
        [booking for booking in bookings if _sends_emails(booking)],
        EmailKind.RESTORED,
        lambda b: f"restored:{_stamp(now)}",
        batch=outbox.new_batch(),
        now=now,
        reason=reason,
    )


def cancellation_link_requested(booking: BookingRequest, *, now: datetime | None = None) -> None:
    """Queue an email with a signed cancellation link to the booking's own address.

    Sent whatever `send_cancellation_emails` says (the client asked for it), but
    only while the client may still cancel online: otherwise the link would lead
    nowhere. Requests within one 5-minute window send one email; throttling
    beyond that is the caller's job.
    """
    now = now or timezone.now()
    if booking.is_deleted or rules.check_client_cancel(booking, now=now) is not None:
        return
    window = int(now.timestamp() // LINK_WINDOW.total_seconds())
    batch = outbox.new_batch()
    email = messages.build(
        booking, EmailKind.CANCEL_LINK, dedupe_key=f"link:{window}", batch=batch, now=now
    )
    with transaction.atomic():
        outbox.queue([email], batch=batch)


def waitlist_offers(entries: Sequence[WaitlistEntry], *, now: datetime) -> None:
    """Queue the offer of a freed spot to each entry (session and business loaded)."""
    batch = outbox.new_batch()
    emails = [
        messages.build_offer(
            entry, dedupe_key=f"offer:{_stamp(entry.offered_at)}", batch=batch, now=now
        )
        for entry in entries
    ]
    outbox.queue(emails, batch=batch)


def waitlist_bookings(entries: Sequence[WaitlistEntry], *, now: datetime) -> None:
    """Queue "you're booked" for each entry's new booking (a claim or an automatic one)."""
    batch = outbox.new_batch()
    emails = [
        messages.build(
            entry.booking,
            EmailKind.WAITLIST_BOOKED,
            dedupe_key=f"waitlist:{entry.reference}",
            batch=batch,
            now=now,
        )
        for entry in entries
        if entry.booking is not None
    ]
    outbox.queue(emails, batch=batch)


def waitlist_closed(entries: Sequence[WaitlistEntry], *, reason: str, now: datetime) -> None:
    """Queue "the session you were waiting for is cancelled" for each closed entry
    (session, business and settings loaded), where the business sends cancellation
    emails. Keyed by the session's cancellation, so closing twice queues one each."""
    batch = outbox.new_batch()
    emails = [
        messages.build_waitlist_closed(
            entry,
            reason=reason,
            dedupe_key=f"session_cancelled:{_stamp(entry.session.cancelled_at)}",
            batch=batch,
            now=now,
        )
        for entry in entries
        if entry.session.business.booking_settings.send_cancellation_emails
    ]
    outbox.queue(emails, batch=batch)
