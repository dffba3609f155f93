"""A worker killed mid-send needs no operator: the sweep that runs beside the worker
(`send_queued_emails --every 60`, in `make run` and the production process list) hands
its emails back, and the next worker sends each once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking import services
from booking.emails import delivery, outbox
from booking.emails.models import EmailStatus, OutboxEmail
from tests.booking.outbox_support import anymail_backend, sent_messages
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(anymail_backend.__name__),
]

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
ROOT = Path(__file__).resolve().parents[2]


def db_worker_batch() -> None:
    """The real `db_worker`, until the queue is empty (its signal handlers restored)."""
    saved = {number: signal.getsignal(number) for number in SIGNALS}
    try:
        call_command("db_worker", "--batch", "--queue-name", "*", "--interval", "0",
                     "--no-startup-delay", "--no-reload", verbosity=0)  # fmt: skip
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def killed_mid_send() -> tuple[DBTaskResult, list[OutboxEmail]]:
    """Three emails queued by one cancellation, and a worker killed while sending the first.

    What `kill -9` leaves behind: the task claimed (RUNNING, never finished), the worker's
    chunk of emails claimed (`sending`, the first of them at the provider), the rest still
    `queued` with no task that will run.
    """
    business = make_business()
    session = make_session(business=business)
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(3)]
    staff = make_staff(businesses=(business,))
    services.cancel_bookings([b.pk for b in bookings], actor=staff, reason="Storm")
    task = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    task.claim("killed-worker")
    emails = list(OutboxEmail.objects.order_by("pk"))
    assert len(delivery._claim([e.pk for e in emails[:2]], timezone.now())) == 2
    return task, emails


def minutes_pass(minutes: int) -> None:
    """Move every row's clock back, as if `minutes` had passed since the crash."""
    earlier = timedelta(minutes=minutes)
    for email in OutboxEmail.objects.all():
        OutboxEmail.objects.filter(pk=email.pk).update(
            updated_at=email.updated_at - earlier, next_attempt_at=email.next_attempt_at - earlier
        )
    for task in DBTaskResult.objects.filter(started_at__isnull=False):
        DBTaskResult.objects.filter(pk=task.pk).update(started_at=task.started_at - earlier)


def test_a_restarted_worker_alone_does_not_send_them():
    killed_mid_send()
    db_worker_batch()
    assert sent_messages() == []


def test_the_sweep_beside_the_worker_sends_them_within_five_minutes():
    killed_mid_send()
    minutes_pass(outbox.STALE_AFTER.seconds // 60)
    call_command("send_queued_emails", "--every", "60", "--rounds", "1")
    db_worker_batch()
    assert sorted(m.to[0] for m in sent_messages()) == [
        "c0@example.com",
        "c1@example.com",
        "c2@example.com",
    ]
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert outbox.STALE_AFTER + timedelta(minutes=1) <= timedelta(minutes=5)


def test_nothing_is_swept_while_a_healthy_worker_may_still_be_sending():
    killed_mid_send()
    minutes_pass(1)
    call_command("send_queued_emails", "--every", "60", "--rounds", "1")
    assert OutboxEmail.objects.filter(status=EmailStatus.SENDING).count() == 2


def test_the_lost_task_is_marked_failed_not_left_running():
    task, _ = killed_mid_send()
    minutes_pass(int(outbox.LOST_TASK_AFTER.total_seconds() // 60) + 1)
    call_command("send_queued_emails", "--rounds", "1")
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert "stopped" in task.traceback


# A worker of its own, in a child process on the test database, killed by its mailer.
KILLED_WORKER = """
import sys, django
django.setup()
from django.test.utils import override_settings
from booking.emails import delivery, tasks
backend = {"BACKEND": "tests.booking.worker_backends.DiesInFlight"}
with override_settings(MAILERS={"default": backend}):
    delivery.deliver([int(pk) for pk in sys.argv[1:]], retry=tasks.enqueue_ids)
"""


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.postgres
def test_a_worker_killed_mid_chunk_resends_only_the_email_in_flight(tmp_path):
    """Killed (SIGKILL) once the provider accepted its third email, before recording it:
    the two before are recorded `sent` (on PostgreSQL by commits that did not wait for
    the flush: the server has them whatever becomes of the worker), the third is the
    one in flight."""
    business = make_business()
    session = make_session(business=business)
    bookings = [make_booking(session=session, client_email=f"c{i}@example.com") for i in range(6)]
    services.cancel_bookings([b.pk for b in bookings], actor=make_staff(businesses=(business,)))
    emails = list(OutboxEmail.objects.order_by("pk"))
    assert len(emails) == 6 < delivery.CLAIM_CHUNK  # one chunk, claimed at once
    log = tmp_path / "sends"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": database_url(), "SENDS_LOG": str(log), "KILL_AFTER": "3"}  # fmt: skip

    child = subprocess.run([sys.executable, "-c", KILLED_WORKER, *[str(e.pk) for e in emails]],
                           cwd=ROOT, env=env, timeout=120)  # fmt: skip

    assert child.returncode == -signal.SIGKILL
    in_order = [email.recipient for email in emails]  # the order they are sent in
    assert log.read_text().split("\n")[:-1] == in_order[:3]
    status = dict(OutboxEmail.objects.values_list("recipient", "status"))
    assert [status[to] for to in in_order] == [EmailStatus.SENT] * 2 + [
        EmailStatus.SENDING  # the third in flight, the rest claimed and not yet tried
    ] * 4

    minutes_pass(outbox.STALE_AFTER.seconds // 60)
    call_command("send_queued_emails", "--rounds", "1")
    db_worker_batch()

    # Only the one in flight went out twice.
    assert sorted(m.to[0] for m in sent_messages()) == sorted(in_order[2:])
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
