"""The background cancellation of a large session's bookings (`manage.py db_worker`)."""

from __future__ import annotations

from django.tasks import task

from booking.services.session_jobs import run_cancellation_job


@task()
def cancel_session_bookings(job_id: int) -> int:
    """Run cancellation job `job_id` to its end; returns the bookings it has cancelled.

    A failure is recorded on the job (shown in the admin), then re-raised for the
    worker; running the job again resumes where it stopped.
    """
    job = run_cancellation_job(job_id)
    return job.done_count if job is not None else 0
