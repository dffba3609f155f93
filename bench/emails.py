"""Benchmark: a bulk cancel of 10 000 bookings queues 10 000 emails in batched
inserts; then the task worker sends them through Anymail's test backend.

    .venv/bin/python bench/emails.py [--count 10000]

Uses a fresh SQLite file in /tmp unless DATABASE_URL is set (then point it at a
scratch database: the benchmark adds four businesses of COUNT bookings each).
Prints one markdown table: the bulk cancel with emails off (the baseline) and
on, each with wall time and query counts, and the worker's throughput, beside
the same worker claiming one row per transaction with each commit waiting for
its WAL flush (the baseline: the worker before chunked claims and
`EMAIL_ASYNC_COMMIT`) and the chunked worker with `EMAIL_ASYNC_COMMIT=0`, each
on another COUNT emails in the same run; then whether the worker's goal is met.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DEBUG", "0")  # production template loading (cached)
os.environ.setdefault("LOG_LEVEL", "WARNING")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='bench-emails-')}/db.sqlite3"

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking import services  # noqa: E402
from booking.emails import delivery  # noqa: E402
from booking.emails.models import EmailStatus, OutboxEmail  # noqa: E402
from booking.models import BookingRequest, BookingStatus, Business, Session  # noqa: E402
from booking.services.policy import snapshot_terms  # noqa: E402

GOAL_RATE = 500  # emails per second, on PostgreSQL
TEST_MAILER = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}


def make_bookings(count: int, *, emails: bool) -> tuple[Business, list[int]]:
    business = Business.objects.create(
        name="Bench Studio", slug=f"bench-{uuid.uuid4().hex[:8]}", timezone="Europe/Berlin",
        contact_email="desk@bench.example", contact_phone="+49 30 1234567",
    )  # fmt: skip
    policy = business.booking_settings
    policy.send_cancellation_emails = emails
    policy.cancellation_fee_policy = "Late cancellations are charged in full."
    policy.save()
    start = timezone.now() + timedelta(days=10)
    sessions = Session.objects.bulk_create(
        Session(business=business, title=f"Class {i}", starts_at=start + timedelta(hours=i),
                ends_at=start + timedelta(hours=i, minutes=45), capacity=500)
        for i in range(max(1, count // 200))
    )  # fmt: skip
    unsaved = [
        BookingRequest(
            session=sessions[n % len(sessions)],
            status=BookingStatus.APPROVED,
            client_name=f"Client {n}",
            client_email=f"client{n}@example.com",
        )
        for n in range(count)
    ]
    snapshot_terms(unsaved)
    bookings = BookingRequest.all_objects.bulk_create(unsaved, batch_size=2000)
    return business, [b.pk for b in bookings]


class Statements:
    """Every SQL statement run (CaptureQueriesContext keeps only the last 9000)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql[:80])
        return execute(sql, params, many, context)


def bulk_cancel(ids: list[int], actor: object) -> dict[str, float | int]:
    statements = Statements()
    with connection.execute_wrapper(statements):
        started = time.perf_counter()
        result = services.cancel_bookings(ids, actor=actor, reason="Studio closed for repairs")
        elapsed = time.perf_counter() - started
    sql = statements.sql
    return {
        "cancelled": len(result.done),
        "seconds": elapsed,
        "queries": len(sql),
        "outbox_inserts": sum('INTO "booking_outboxemail"' in s for s in sql),
        "tasks_enqueued": sum('INTO "django_tasks_database_dbtaskresult"' in s for s in sql),
    }


def run_worker(*, async_commit: bool = True) -> tuple[float, int]:
    mail.outbox = []
    statements = Statements()
    with (
        override_settings(MAILERS=TEST_MAILER, EMAIL_ASYNC_COMMIT=async_commit),
        connection.execute_wrapper(statements),
    ):
        started = time.perf_counter()
        call_command("db_worker", "--batch", "--queue-name", "email", "--interval", "0",
                     "--no-startup-delay", "--no-reload", verbosity=0)  # fmt: skip
        elapsed = time.perf_counter() - started
    return elapsed, len(statements.sql)


def worker_on_new_emails(count: int, actor: object, *, async_commit: bool) -> tuple[float, int]:
    """Queue COUNT more emails by a bulk cancel and run the worker on them."""
    business, ids = make_bookings(count, emails=True)
    bulk_cancel(ids, actor)
    result = run_worker(async_commit=async_commit)
    assert OutboxEmail.objects.filter(business=business, status=EmailStatus.SENT).count() == count
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    count = parser.parse_args().count

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.create_superuser(
        f"bench-{uuid.uuid4().hex[:6]}", password=None
    )

    _, quiet_ids = make_bookings(count, emails=False)
    baseline = bulk_cancel(quiet_ids, actor)
    business, ids = make_bookings(count, emails=True)
    with_emails = bulk_cancel(ids, actor)
    queued = OutboxEmail.objects.filter(business=business, status=EmailStatus.QUEUED).count()

    worker_seconds, worker_queries = run_worker()
    sent = OutboxEmail.objects.filter(business=business, status=EmailStatus.SENT).count()
    assert queued == count and sent == count and len(mail.outbox) == count

    # In the same run: the chunked worker with every commit waiting for its flush,
    # and the baseline, the worker as it was (one row per claim, the same wait).
    flush_seconds, flush_queries = worker_on_new_emails(count, actor, async_commit=False)
    chunk, delivery.CLAIM_CHUNK = delivery.CLAIM_CHUNK, 1
    try:
        row_seconds, row_queries = worker_on_new_emails(count, actor, async_commit=False)
    finally:
        delivery.CLAIM_CHUNK = chunk

    vendor = connection.vendor
    print(f"\n{count} bookings on {vendor}\n")
    print("| step | rows | time | queries | outbox INSERTs | tasks enqueued |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, run, rows in (
        ("bulk cancel, emails off", baseline, baseline["cancelled"]),
        ("bulk cancel, emails on", with_emails, queued),
    ):
        print(f"| {label} | {rows} | {run['seconds']:.2f} s | {run['queries']} | "
              f"{run['outbox_inserts']} | {run['tasks_enqueued']} |")  # fmt: skip
    extra = with_emails["seconds"] - baseline["seconds"]
    print(f"| emails' share of the cancel | {queued} | {extra:.2f} s "
          f"({extra / max(queued, 1) * 1e6:.0f} µs/email) | | | |")  # fmt: skip
    rate, row_rate = sent / worker_seconds, count / row_seconds
    chunked = f"{delivery.CLAIM_CHUNK} rows per claim"
    for label, seconds, queries, per_second in (
        ("worker, one row per claim, flush wait (baseline)", row_seconds, row_queries, row_rate),
        (
            f"worker, {chunked}, flush wait (`EMAIL_ASYNC_COMMIT=0`)",
            flush_seconds,
            flush_queries,
            count / flush_seconds,
        ),
        (f"worker, {chunked}", worker_seconds, worker_queries, rate),
    ):
        print(f"| {label} (db_worker --batch → Anymail test backend) | {count} sent | "
              f"{seconds:.2f} s ({per_second:.0f} emails/s) | {queries} "
              f"({queries / count:.2f}/email) | | |")  # fmt: skip
    print(
        f"\nworker: {rate:.0f} emails/s, {rate / row_rate:.1f}x the one-row baseline, "
        f"{rate * flush_seconds / count:.1f}x the same worker waiting for each flush; "
        f"goal >= {GOAL_RATE} emails/s: {'met' if rate >= GOAL_RATE else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
