"""A large session's bookings, cancelled on the worker in locked chunks.

`run_cancellation_job(job_id)` is what the task runs (`booking.sessions.tasks`).
It walks the session's active bookings in primary-key order, a chunk of
`SESSION_CANCEL_CHUNK_SIZE` at a time; each chunk is one transaction that
cancels them as a staff cancellation (`cancel_as_staff`: the session locked, then
the bookings, each re-checked under its lock, one historical record and one
email each, written to the outbox in the same transaction) and adds its counts
to the job. So a crash, a killed
worker or a failed chunk loses nothing but the chunk in flight, which rolled back
whole: its bookings are still active, and no email of it was queued.

Running the job again (the task retried, or the action run again on the
session, which queues the unfinished job once more) changes nothing more and
sends nothing twice: only bookings still active are picked, a booking another
run cancelled meanwhile is re-checked under its lock and left alone, and the
outbox's uniqueness rule (one email per booking and state change) holds
whatever happens. Two runs of one job side by side are safe for the same reasons.

When no active booking is left the job is done; bookings still active after a
full pass (refused under the lock, or the requester no longer staff of the
business) are its failures, with the reason in `error`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from booking.audit import RequestContext
from booking.models import ACTIVE_STATUSES, BookingRequest, SessionCancellationJob
from booking.services.lifecycle.status import cancel_as_staff

Status = SessionCancellationJob.Status


def active_bookings(session_ids: Iterable[int]) -> QuerySet[BookingRequest]:
    """The bookings a session's cancellation cancels: pending or approved, not deleted."""
    return BookingRequest.objects.filter(session_id__in=list(session_ids)).active()


def background_threshold() -> int:
    """Sessions with more active bookings than this cancel them in the background."""
    return settings.SESSION_CANCEL_BACKGROUND_THRESHOLD


def run_cancellation_job(job_id: int) -> SessionCancellationJob | None:
    """Cancel the job's session's active bookings, chunk by chunk (see the module)."""
    job = SessionCancellationJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    now = timezone.now()
    jobs = SessionCancellationJob.objects.filter(pk=job.pk)
    jobs.update(status=Status.RUNNING, started_at=job.started_at or now, error="")
    last_pk: int | None = 0
    try:
        while last_pk is not None:
            last_pk = _cancel_chunk(job, after=last_pk)
    except Exception as error:  # the job must record any failure before the worker sees it
        left = active_bookings([job.session_id]).count()
        jobs.update(
            status=Status.FAILED,
            failed_count=left,
            error=f"Stopped by an error ({type(error).__name__}); running it again resumes.",
            finished_at=timezone.now(),
        )
        raise
    left = active_bookings([job.session_id]).count()
    jobs.update(
        status=Status.FAILED if left else Status.DONE,
        failed_count=left,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def _cancel_chunk(job: SessionCancellationJob, *, after: int) -> int | None:
    """One locked chunk after primary key `after`: its last key, or None when none is left."""
    size = settings.SESSION_CANCEL_CHUNK_SIZE
    with transaction.atomic():
        # Not locked here: `cancel_as_staff` locks the session, then these bookings
        # (sessions before bookings, as on every path), and re-checks each under its lock.
        ids = list(
            active_bookings([job.session_id])
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return None
        result = cancel_as_staff(
            ids,
            actor=job.requested_by,
            reason=job.reason,
            context=RequestContext(ip_address=job.ip_address, user_agent=job.user_agent),
            notify_client=job.notify_client,
            session_cancelled=True,
        )
        refused = [
            skip for skip in result.skipped
            if skip.booking is None or skip.booking.status in ACTIVE_STATUSES
        ]  # fmt: skip
        changes: dict = {"done_count": F("done_count") + result.done_count}
        if refused:
            changes["error"] = f"{len(refused)} not cancelled: {refused[0].reason}"
        SessionCancellationJob.objects.filter(pk=job.pk).update(**changes)
    return ids[-1]
