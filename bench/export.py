"""Benchmark the bookings export: time and peak memory, beside a plain csv.writer.

    .venv/bin/python bench/export.py            # a throw-away SQLite database in /tmp
    DATABASE_URL=postgres://… .venv/bin/python bench/export.py

For 10 000 and 100 000 bookings it times (best of three) and measures the peak
memory (tracemalloc, in a separate run so it does not slow the timing) of:

- plain: `csv.writer` over `values_list` of the same columns (the baseline);
- CSV: the streaming response the export views return, consumed in full;
- XLSX: the write-only workbook into a temporary file, then streamed.

Goals: CSV within 3x of plain; peak memory for 100 000 rows at most 2x that
for 10 000.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DEBUG", "0")  # DEBUG would keep every query in memory
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.gettempdir()}/bench_export.sqlite3"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.exports.service import stream_response  # noqa: E402
from booking.exports.tables import BOOKINGS  # noqa: E402
from booking.exports.writers import FORMATS  # noqa: E402
from booking.models import BookingRequest, Business, Session, generate_reference  # noqa: E402

SIZES = (10_000, 100_000)
SLUG = "bench-export"


class Discard:
    def write(self, data: str) -> int:
        return len(data)


def ensure_data(count: int) -> None:
    business, _ = Business.objects.get_or_create(slug=SLUG, defaults={"name": "Bench Export"})
    have = BookingRequest.all_objects.filter(session__business=business).count()
    if have >= count:
        return
    now = timezone.now()
    sessions = Session.objects.bulk_create(
        Session(
            business=business,
            title=f"Session {n}",
            starts_at=now + timedelta(hours=n),
            ends_at=now + timedelta(hours=n, minutes=45),
        )
        for n in range(100)
    )
    batch = []
    for n in range(have, count):
        cancelled = n % 4 == 0
        batch.append(
            BookingRequest(
                session=sessions[n % len(sessions)],
                reference=generate_reference(),
                client_name=f"Client {n}",
                client_email=f"client{n}@example.com",
                client_phone=f"+44 7700 {n:06d}",
                status="cancelled" if cancelled else "approved",
                cancelled_at=now if cancelled else None,
                cancellation_reason="Feeling unwell" if cancelled else "",
            )
        )
        if len(batch) == 5000:
            BookingRequest.all_objects.bulk_create(batch)
            batch = []
    BookingRequest.all_objects.bulk_create(batch)


def selection(count: int):
    business = Business.objects.get(slug=SLUG)
    ids = BookingRequest.all_objects.filter(session__business=business).order_by("pk")
    last = ids.values_list("pk", flat=True)[count - 1]
    return BookingRequest.all_objects.filter(session__business=business, pk__lte=last).order_by(
        "pk"
    )


def plain(queryset) -> None:
    writer = csv.writer(Discard())
    writer.writerow(BOOKINGS.headers)
    sources = [column.source for column in BOOKINGS.columns]
    writer.writerows(queryset.values_list(*sources).iterator(chunk_size=2000))


def export(fmt: str):
    def run(queryset) -> None:
        response = stream_response(BOOKINGS, queryset, FORMATS[fmt])
        for _ in response.streaming_content:
            pass
        response.close()

    return run


def timed(run, queryset) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run(queryset)
        best = min(best, time.perf_counter() - start)
    return best


def peak(run, queryset) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    run(queryset)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak_bytes


def main() -> None:
    call_command("migrate", verbosity=0)
    ensure_data(max(SIZES))
    writers = {
        "plain csv.writer": plain,
        "CSV export": export("csv"),
        "XLSX export": export("xlsx"),
    }
    results = {}
    for size in SIZES:
        queryset = selection(size)
        for name, run in writers.items():
            results[name, size] = (timed(run, queryset), peak(run, queryset))
    vendor = django.db.connection.vendor
    print(f"Bookings export benchmark ({vendor}); time is the best of 3 runs")
    print(
        f"{'writer':<18} {'rows':>8} {'time s':>8} {'x plain':>8} {'peak MiB':>9} {'peak x10k':>10}"
    )
    for name in writers:
        for size in SIZES:
            seconds, peak_bytes = results[name, size]
            ratio = seconds / results["plain csv.writer", size][0]
            growth = peak_bytes / results[name, SIZES[0]][1]
            print(
                f"{name:<18} {size:>8} {seconds:>8.2f} {ratio:>8.2f} "
                f"{peak_bytes / 2**20:>9.2f} {growth:>10.2f}"
            )
    csv_ratio = results["CSV export", SIZES[-1]][0] / results["plain csv.writer", SIZES[-1]][0]
    memory_ok = all(
        results[name, SIZES[-1]][1] <= 2 * results[name, SIZES[0]][1]
        for name in ("CSV export", "XLSX export")
    )
    verdict = "met" if csv_ratio <= 3 else "MISSED"
    print(f"Goal CSV within 3x of plain at {SIZES[-1]}: {verdict} ({csv_ratio:.2f}x)")
    verdict = "met" if memory_ok else "MISSED"
    print(f"Goal peak memory at {SIZES[-1]} <= 2x that at {SIZES[0]}: {verdict}")


if __name__ == "__main__":
    main()
