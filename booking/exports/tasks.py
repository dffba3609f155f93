"""The background export job, on the `exports` task queue (`manage.py db_worker`)."""

from __future__ import annotations

import logging

from django.tasks import task
from django.utils import timezone

from booking.exports.jobs import run_job
from booking.exports.models import ExportJob

logger = logging.getLogger(__name__)


@task(queue_name="exports")
def run_export_job(job_id: int) -> int:
    """Write export job `job_id`'s file; returns its row count.

    A job that fails is marked failed with the error's type shown to its owner
    (the details go to the log), then the error is re-raised for the worker.
    """
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.status == ExportJob.Status.DONE:
        return 0
    try:
        return run_job(job).row_count
    except Exception as error:  # the worker must record any failure on the job
        logger.exception("Export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED,
            error=f"The export failed ({type(error).__name__}); please try again.",
            finished_at=timezone.now(),
        )
        raise
