"""Benchmark: the booking change list at 100 000 bookings, beside a bare ModelAdmin.

    .venv/bin/python bench/admin.py                      # SQLite
    DATABASE_URL=postgres://… .venv/bin/python bench/admin.py   # PostgreSQL

Runs in a throw-away test database (Django's test-database creation: an
in-memory SQLite, or `test_<name>` on PostgreSQL, dropped afterwards), fills it
with bulk_create (`booking.demo.build_bookings`, not through the admin), then
renders each page through the full middleware stack with Django's test client
and prints the median time and the number of queries, for our
`BookingRequestAdmin` and for a bare `ModelAdmin` of the same model registered
on a second admin site in the same run.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib import admin  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.demo import build_bookings, create_sessions  # noqa: E402
from booking.models import BookingRequest, Business  # noqa: E402
from tests.factories import make_business, make_staff  # noqa: E402

TOTAL = int(os.environ.get("BENCH_BOOKINGS", 100_000))
OWN_SHARE = 0.9  # the staff member's business; the rest belongs to another one
RUNS = int(os.environ.get("BENCH_RUNS", 5))
BATCH = 5000

bare_site = admin.AdminSite(name="bare")
bare_site.register(BookingRequest)  # a bare ModelAdmin: no filters, no joins, full count

urlpatterns = [path("admin/", admin.site.urls), path("bare/", bare_site.urls)]

PAGES = [
    ("change list", "/admin/booking/bookingrequest/", "/bare/booking/bookingrequest/"),
    ("page 20", "/admin/booking/bookingrequest/?p=20", "/bare/booking/bookingrequest/?p=20"),
    ("status filter", "/admin/booking/bookingrequest/?status__exact=cancelled", None),
    ("deleted=all", "/admin/booking/bookingrequest/?deleted=all", None),
    ("search (email)", "/admin/booking/bookingrequest/?q=grace.hopper", None),
]


def fill() -> Business:
    """Bookings for two businesses; returns the one the staff member works for."""
    now = timezone.now()
    rng = random.Random(2026)
    own = make_business(slug="bench-own", name="Bench Own")
    other = make_business(slug="bench-other", name="Bench Other")
    for business, count in [
        (own, int(TOTAL * OWN_SHARE)),
        (other, TOTAL - int(TOTAL * OWN_SHARE)),
    ]:
        sessions = create_sessions(business, count=max(1, count // 8), now=now, seed=count)
        for start in range(0, count, BATCH):
            rows = build_bookings(sessions, count=min(BATCH, count - start), now=now, rng=rng)
            BookingRequest.all_objects.bulk_create(rows, batch_size=BATCH)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return own


def measure(client: Client, url: str) -> tuple[float, int]:
    assert client.get(url).status_code == 200, url  # warm up (and check)
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(timings), len(queries)


def main() -> None:
    db_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        started = time.perf_counter()
        own = fill()
        fill_seconds = time.perf_counter() - started
        superuser = make_staff(username="bench-root", superuser=True)
        staff = make_staff(username="bench-desk", businesses=(own,))
        print(
            f"{connection.vendor}: {BookingRequest.all_objects.count():,} bookings "
            f"(filled in {fill_seconds:.1f} s), median of {RUNS} renders\n"
        )
        columns = [f"{'user':<10}", f"{'page':<15}", "ours ms", "queries", "bare ms", "queries"]
        header = "| " + " | ".join(columns) + " |"
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        with override_settings(ROOT_URLCONF=__name__):
            for label, user in [("superuser", superuser), ("staff", staff)]:
                client = Client()
                client.force_login(user)
                bare = Client()
                bare.force_login(superuser)
                for page, ours_url, bare_url in PAGES:
                    ours_ms, ours_q = measure(client, ours_url)
                    if bare_url and label == "superuser":
                        bare_ms, bare_q = measure(bare, bare_url)
                        bare_cells = f"{bare_ms:>7.0f} | {bare_q:>7}"
                    else:
                        bare_cells = f"{'—':>7} | {'—':>7}"
                    ours_cells = f"{ours_ms:>7.0f} | {ours_q:>7}"
                    print(f"| {label:<10} | {page:<15} | {ours_cells} | {bare_cells} |")
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
