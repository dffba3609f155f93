"""Bulk cancellation through the service layer against a naive per-object save() loop.

    .venv/bin/python bench/bulk.py                  # SQLite, and PostgreSQL when
    DATABASE_URL=postgres://… .venv/bin/python bench/bulk.py   # DATABASE_URL names one
    .venv/bin/python bench/bulk.py --rows 20000 --cancel 2000   # a quicker look

For each database, in a throwaway database of its own (bench/common.py): create
ROWS bookings (demo data, with one "+" historical record each; 120 000 by
default, since the demo's mix leaves ~44 % of them active and five sets of
CANCEL active ones are needed), then cancel
CANCEL active ones with `services.cancel_bookings`, and a different CANCEL with
the naive loop — load each booking, set its fields, `save()`, and let
simple-history's post_save write the record — both inside one transaction (the
naive loop's best case: per-row autocommit would be slower still). Both record
the same user, reason, IP and user agent; the service's emails are off
(`notify_client=False`) so that both do the same work. Peak memory is the
Python heap's peak during a separate, untimed run of each on yet other rows.
For reference, the naive loop also runs without a transaction (one commit
per save(), as a loop in a script often is); the goal's ratio is against the
faster, one-transaction loop.

Goal (issue 2): the service ≥ 20x the naive loop, and < 3 s for 10 000 rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

REASON = "Studio closed for maintenance"
LABELS = {
    "service": "services.cancel_bookings",
    "naive": "naive save() loop, 1 transaction",
    "autocommit": "naive save() loop, autocommit",
}
GOAL_RATIO, GOAL_SECONDS = 20, 3.0


def naive_cancel(ids: list[int], *, actor, reason: str, context, atomic: bool = True) -> int:
    """The loop a first version would write: one UPDATE and one history INSERT per booking."""
    from contextlib import nullcontext

    from django.db import transaction
    from django.utils import timezone

    from booking.models import BookingRequest, BookingStatus

    now, changed = timezone.now(), 0
    with transaction.atomic() if atomic else nullcontext():
        for booking in BookingRequest.objects.filter(pk__in=ids).order_by("pk"):
            if booking.status not in (BookingStatus.PENDING, BookingStatus.APPROVED):
                continue
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_at, booking.cancelled_by = now, actor
            booking.cancelled_by_client, booking.cancellation_reason = False, reason
            booking._history_user, booking._change_reason = actor, reason
            booking._history_context = context  # IP and user agent (booking/signals.py)
            booking.save()
            changed += 1
    return changed


def run(kind: str, rows: int, cancel: int) -> dict:
    """Benchmark one database; returns the numbers for the table."""
    with common.throwaway_database(kind) as url:
        common.setup_django(url)
        from django.db import connection

        from booking import demo, services
        from booking.audit import RequestContext
        from booking.models import BookingRequest
        from tests.factories import make_business, make_staff

        staff = make_staff(username="bench-desk")
        business = make_business(slug="bench-studio", staff=(staff,))
        context = RequestContext(ip_address="203.0.113.10", user_agent="bench/bulk.py")

        created = common.measure(lambda: demo.create_bookings(business, count=rows, seed=1))
        active = list(BookingRequest.objects.active().order_by("pk").values_list("pk", flat=True))
        if len(active) < 5 * cancel:
            raise SystemExit(f"only {len(active)} active bookings for 5 x {cancel}: raise --rows")
        # Interleaved sets, so that neither method gets the "nicer" end of the table.
        sets = [active[i : 5 * cancel : 5] for i in range(5)]
        staff.has_perm("booking.cancel_bookingrequest")  # both start with a warm permission cache

        def service(ids: list[int]) -> int:
            result = services.cancel_bookings(
                ids, actor=staff, reason=REASON, context=context, notify_client=False
            )
            return result.done_count

        def naive(ids: list[int]) -> int:
            return naive_cancel(ids, actor=staff, reason=REASON, context=context)

        fast = common.measure(lambda: service(sets[0]))
        slow = common.measure(lambda: naive(sets[1]))
        fast_mb = common.peak_memory_mb(lambda: service(sets[2]))
        slow_mb = common.peak_memory_mb(lambda: naive(sets[3]))
        # For reference: the same loop without a transaction (one commit per save()).
        autocommit = common.measure(
            lambda: naive_cancel(sets[4], actor=staff, reason=REASON, context=context, atomic=False)
        )

        for measurement, ids in ((fast, sets[0]), (slow, sets[1])):
            assert measurement.result == cancel, measurement.result
            records = BookingRequest.history.filter(id__in=ids, history_type="~")
            assert records.count() == cancel
            assert records.filter(history_user=staff, history_change_reason=REASON,
                                  ip_address=context.ip_address).count() == cancel  # fmt: skip
        return {
            "database": f"{connection.vendor} {connection.Database.sqlite_version}"
            if connection.vendor == "sqlite"
            else f"{connection.vendor} {connection.pg_version // 10000}",
            "rows": rows,
            "cancel": cancel,
            "create_seconds": created.seconds,
            "create_queries": created.queries,
            "service": [fast.seconds, fast.queries, fast_mb],
            "naive": [slow.seconds, slow.queries, slow_mb],
            "autocommit": [autocommit.seconds, autocommit.queries, None],
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def report(results: list[dict]) -> bool:
    table, ok = [], True
    for r in results:
        ratio = r["naive"][0] / r["service"][0]
        ok &= ratio >= GOAL_RATIO and r["service"][0] < GOAL_SECONDS
        for method, label in LABELS.items():
            seconds, queries, mb = r[method]
            table.append([
                r["database"], label, f"{r['cancel']:,}", f"{seconds:.2f}",
                f"{r['cancel'] / seconds:,.0f}", f"{queries:,}",
                "-" if mb is None else f"{mb:.1f}", f"{r['naive'][0] / seconds:.1f}x",
            ])  # fmt: skip
    common.print_table(
        ["database", "method", "rows", "seconds", "rows/s", "queries", "peak MiB", "vs naive"],
        table,
    )
    print()
    for r in results:
        print(
            f"{r['database']}: created {r['rows']:,} bookings in {r['create_seconds']:.1f} s "
            f"({r['create_queries']:,} queries); process peak RSS {r['max_rss_mb']:.0f} MiB."
        )
    goal = f"goal: ≥ {GOAL_RATIO}x the naive loop and < {GOAL_SECONDS:.0f} s"
    print(f"{goal}: {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--cancel", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # one database per process: Django's settings are configured once
        print(json.dumps(run(args.child, args.rows, args.cancel)))
        return
    kinds = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    if "postgres" in kinds and common.postgres_url() is None:
        if args.db == "postgres":
            raise SystemExit("set DATABASE_URL=postgres://… to benchmark on PostgreSQL")
        print("(DATABASE_URL names no PostgreSQL server: SQLite only)\n", file=sys.stderr)
        kinds.remove("postgres")
    results = []
    for kind in kinds:
        print(f"… {kind}: {args.rows:,} bookings, cancelling 5 x {args.cancel:,}", file=sys.stderr)
        child = subprocess.run(
            [sys.executable, __file__, "--child", kind,
             "--rows", str(args.rows), "--cancel", str(args.cancel)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if child.returncode:
            sys.stderr.write(child.stderr)
            raise SystemExit(f"the {kind} run failed")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    sys.exit(0 if report(results) else 1)


if __name__ == "__main__":
    main()
