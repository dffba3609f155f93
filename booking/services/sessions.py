"""Sessions cancelled by the business: the session, then every active booking in it.

`cancel_sessions` is bulk first (one session is a bulk call of one), in one
transaction:

1. the selected sessions are locked in primary-key order (`select_for_update`),
   scoped to the actor's businesses, so that a forged id of another business
   is skipped as missing and two concurrent calls cannot both cancel one session;
2. each scheduled session becomes `cancelled` (who, when, why), with one
   historical record each carrying user, reason, IP and user agent;
3. every active booking (pending or approved, not deleted) of the selected
   sessions is cancelled as a staff cancellation through the life cycle's engine
   (`lifecycle.status.cancel_as_staff`: locked, re-checked, one historical record
   and, unless `notify_client` is off, one email each whose wording says the
   business cancelled the session). A staff cancellation charges no fee.
   A session with more active bookings than `SESSION_CANCEL_BACKGROUND_THRESHOLD`
   is cancelled at once all the same (it takes no new bookings from then on),
   but its bookings are cancelled by a background job (`queue_job`,
   `services.session_jobs`) whose progress the admin shows.
4. the open entries of their waitlists (waiting, or holding an offer) are closed
   (`removed`, reason recorded) and, unless `notify_client` is off, each client
   is emailed that the class is cancelled (`waitlist.staff.close_waitlists`).

Sessions are locked before their bookings, as every path that locks both does
(moving bookings locks its target session first), so the two never deadlock.

Running it again changes nothing more: cancelled sessions are skipped ("already
cancelled"), and their bookings, all cancelled, are no longer active, so no
email goes out twice. The bookings of an already-cancelled session are still
swept, so a run cut short is finished by running it again: a session's
unfinished background job (stopped by a crash or an error) is queued again and
resumes where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from booking.audit import SYSTEM, RequestContext
from booking.models import Session, SessionCancellationJob, SessionStatus
from booking.services import exceptions as exc
from booking.services import history
from booking.services.lifecycle.engine import as_actor, clean_reason
from booking.services.lifecycle.status import cancel_as_staff
from booking.services.results import BulkResult
from booking.services.session_jobs import active_bookings, background_threshold
from booking.services.waitlist.staff import close_waitlists
from booking.sessions.tasks import cancel_session_bookings

CANCEL_PERMISSION = "booking.cancel_session"

SessionSelection = QuerySet[Session] | Session | Iterable[int]

MISSING = "no longer exists or is not yours"
ALREADY_CANCELLED = "already cancelled"


@dataclass(frozen=True)
class SessionSkip:
    session: Session | None
    session_id: int
    reason: str


@dataclass
class SessionResult:
    """What `cancel_sessions` did: sessions cancelled or skipped, and their bookings."""

    done: list[Session] = field(default_factory=list)
    skipped: list[SessionSkip] = field(default_factory=list)
    bookings: BulkResult = field(default_factory=lambda: BulkResult(verb="cancelled"))
    # Sessions too large for one request: their bookings are cancelled by these jobs.
    jobs: list[SessionCancellationJob] = field(default_factory=list)

    def summary(self) -> str:
        """ "2 sessions cancelled (14 bookings cancelled); 1 skipped: already cancelled"."""
        sessions = "session" if len(self.done) == 1 else "sessions"
        bookings = "booking" if self.bookings.done_count == 1 else "bookings"
        text = (
            f"{len(self.done)} {sessions} cancelled "
            f"({self.bookings.done_count} {bookings} cancelled)"
        )
        if self.jobs:
            queued = sum(job.total - job.done_count for job in self.jobs)
            text += f"; {queued} more being cancelled in the background"
        if self.skipped:
            reasons = Counter(skip.reason for skip in self.skipped)
            listed = ", ".join(
                f"{count} {reason}" if len(reasons) > 1 else reason
                for reason, count in reasons.most_common()
            )
            text += f"; {len(self.skipped)} skipped: {listed}"
        return capfirst(text)


def _ids(sessions: SessionSelection) -> list[int]:
    if isinstance(sessions, Session):
        return [sessions.pk]
    if isinstance(sessions, QuerySet):
        return sorted(sessions.order_by().values_list("pk", flat=True).distinct())
    return sorted({int(pk) for pk in sessions})


def check_permitted(actor: Any) -> Any:
    """The actor (None: the system, an operator's command) may cancel sessions."""
    actor = as_actor(actor)
    if actor is not None and not actor.has_perm(CANCEL_PERMISSION):
        raise exc.NotPermitted("you do not have permission to cancel sessions")
    return actor


def required_reason(reason: object) -> str:
    """A session's cancellation is told to every client: its reason is required."""
    reason = clean_reason(reason)
    if not reason:
        raise exc.ReasonRequired("a reason is required to cancel a session")
    return reason


def cancel_sessions(
    sessions: SessionSelection,
    *,
    actor: Any,
    reason: object,
    context: RequestContext = SYSTEM,
    notify_client: bool = True,
    now: datetime | None = None,
) -> SessionResult:
    """Cancel sessions as the business, and every active booking in them (see the module)."""
    actor = check_permitted(actor)
    reason = required_reason(reason)
    now = now or timezone.now()
    ids = _ids(sessions)
    result = SessionResult()
    with transaction.atomic():
        rows = Session.objects.filter(pk__in=ids)
        if actor is not None:
            rows = rows.for_user(actor)
        locked = list(
            rows.select_related("business").select_for_update(of=("self",)).order_by("pk")
        )
        found = {session.pk for session in locked}
        result.skipped.extend(SessionSkip(None, pk, MISSING) for pk in ids if pk not in found)
        for session in locked:
            if session.is_cancelled:
                result.skipped.append(SessionSkip(session, session.pk, ALREADY_CANCELLED))
            else:
                result.done.append(session)
        _mark_cancelled(result.done, actor=actor, reason=reason, context=context, now=now)
        large = _large(found)
        result.jobs = [
            queue_job(session, actor=actor, reason=reason, context=context,
                      notify_client=notify_client, total=large[session.pk])
            for session in locked if session.pk in large
        ]  # fmt: skip
        result.bookings = cancel_as_staff(
            active_bookings(found - large.keys()),
            actor=actor,
            reason=reason,
            context=context,
            notify_client=notify_client,
            now=now,
            session_cancelled=True,
        )
        # Nobody waits for a cancelled session (run again, it closes what is left).
        cancelled = [session.pk for session in locked if session.is_cancelled]
        close_waitlists(cancelled, actor=actor, reason=reason, context=context,
                        notify_client=notify_client, now=now)  # fmt: skip
    return result


def _large(session_ids: set[int]) -> dict[int, int]:
    """The sessions whose bookings a job cancels, with their active count: too many for
    one request, or an unfinished job of theirs (which then resumes)."""
    counts = dict(
        active_bookings(session_ids)
        .order_by()
        .values_list("session_id")
        .annotate(count=Count("pk"))
    )
    unfinished = SessionCancellationJob.objects.filter(session_id__in=session_ids).exclude(
        status=SessionCancellationJob.Status.DONE
    )
    resumed = set(unfinished.values_list("session_id", flat=True))
    threshold = background_threshold()
    return {
        pk: counts.get(pk, 0)
        for pk in session_ids
        if counts.get(pk, 0) > threshold or pk in resumed
    }


def queue_job(
    session: Session,
    *,
    actor: Any,
    reason: str,
    context: RequestContext,
    notify_client: bool,
    total: int,
) -> SessionCancellationJob:
    """Queue the cancellation of `session`'s bookings on the worker (once committed).

    An unfinished job of the session (waiting, running, or stopped by a crash or
    an error) is queued again rather than doubled: it resumes where it stopped.
    """
    job = session.cancellation_jobs.exclude(status=SessionCancellationJob.Status.DONE).first()
    if job is None:
        job = SessionCancellationJob.objects.create(
            session=session,
            requested_by=actor,
            reason=reason,
            notify_client=notify_client,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            total=total,
        )
    # The database backend stores the task in this transaction: it runs only
    # once the session's cancellation is committed.
    cancel_session_bookings.enqueue(job.pk)
    return job


# A job not started, or not finished, this long after it was (re)queued was left
# by a lost worker (or its task by a crash before the enqueue): the sweep queues it again.
STRANDED_AFTER = timedelta(minutes=5)


def resume_stranded_jobs(*, now: datetime | None = None,
                         stranded_after: timedelta = STRANDED_AFTER) -> int:  # fmt: skip
    """Queue again the session cancellations a lost worker left behind; returns how many.

    The outbox sweep (`manage.py send_queued_emails --every 60`, beside the
    worker) calls it each round, so a job whose worker was killed finishes without
    an operator. A job still running (a very large session) may get a second run
    beside it, which is harmless: every run picks only bookings still active and
    re-checks each under its lock, and the outbox sends each email once. Jobs that
    stopped on an error stay `failed` for staff to see; running the action again
    resumes them.
    """
    now = now or timezone.now()
    before = now - stranded_after
    unfinished = [SessionCancellationJob.Status.PENDING, SessionCancellationJob.Status.RUNNING]
    jobs = SessionCancellationJob.objects.filter(status__in=unfinished).filter(
        Q(started_at__lt=before) | Q(started_at__isnull=True, created_at__lt=before)
    )
    with transaction.atomic():
        ids = list(jobs.select_for_update(skip_locked=True).values_list("pk", flat=True))
        # `started_at` becomes the time it was queued again, so the next round waits.
        SessionCancellationJob.objects.filter(pk__in=ids).update(started_at=now)
        for pk in ids:
            cancel_session_bookings.enqueue(pk)
    return len(ids)


def _mark_cancelled(
    sessions: list[Session], *, actor: Any, reason: str, context: RequestContext, now: datetime
) -> None:
    if not sessions:
        return
    fields = {
        "status": SessionStatus.CANCELLED,
        "cancelled_at": now,
        "cancelled_by": actor,
        "cancellation_reason": reason,
    }
    history.update_and_record(sessions, fields, actor=actor, reason=reason, context=context,
                              when=now)  # fmt: skip
