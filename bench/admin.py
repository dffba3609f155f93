"""Benchmark the admin as staff use it: the bulk cancel by HTTP POST, and the change list
at 1 000 000 bookings.

    .venv/bin/python bench/admin.py actions                 # SQLite, and PostgreSQL
    DATABASE_URL=postgres://… .venv/bin/python bench/admin.py actions   # when it names one
    DATABASE_URL=postgres://… .venv/bin/python bench/admin.py changelist

`actions`: in a throwaway database per kind (bench/common.py), ROWS demo
bookings; then, through the real admin with Django's test client (the whole
middleware stack, the confirmation form's POST), cancel CANCEL ticked bookings,
CANCEL more with "notify client" ticked, and "select all" over a filter that
matches CANCEL bookings (the session date filter); beside them, in the same
run, the naive save() loop of bench/bulk.py on another CANCEL. Prints each
time, how long booking rows stayed locked (the longest any one of its
transactions held them: a bulk call commits per batch), its ratio to the loop, and
whether the goal is met (>= 20x and < 3 s; with "notify client", whose emails
the worker renders later, < 3 s with rows locked < 1 s).

`changelist` (PostgreSQL): seeds BENCH_BOOKINGS (1 000 000) bookings with SQL
(bench/million.py, about a minute) into the database BENCH_MILLION_DB
(default `booking_bench_million`, beside DATABASE_URL's), kept between runs,
then renders every page a user reaches from the list (plain, each sidebar
filter, both deletion views, search by reference / email / phone / name,
page 50) for a superuser and for the staff of one business (10 % of the rows),
median of BENCH_RUNS renders, with its query count, beside a bare ModelAdmin
(Django's defaults: full count, no filters) on the plain list and page 50.
Goal: each page <= 300 ms, and the same number of queries on every page size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

CHANGELIST = "/admin/booking/bookingrequest/"
GOAL_RATIO, GOAL_SECONDS, GOAL_MS, GOAL_LOCK_SECONDS = 20, 3.0, 300, 1.0
REASON = "Studio closed for maintenance"


def setup(database_url: str) -> None:
    """Django with the test settings (production templates, Anymail's test backend), migrated."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- The bulk cancel through the admin ------------------------------------------------


class LockTimer:
    """How long booking rows stay locked: the longest any one transaction held them.

    A bulk call commits batch by batch, so one POST runs several transactions; each
    holds its rows from its first locking statement (a `SELECT … FOR UPDATE` naming
    bookings on PostgreSQL, its batch's sessions' or its bookings'; on SQLite the
    first write, which takes the database's write lock) to its commit. `held` is the
    longest of those spans.
    """

    def __init__(self) -> None:
        self.started: float | None = None
        self.held: float | None = None

    def __call__(self, execute, sql, params, many, context):
        from django.db import connection, transaction

        if self.started is None and connection.in_atomic_block and self.locks(sql):
            self.started = time.perf_counter()
            transaction.on_commit(self.committed)  # the first hook: runs right after COMMIT
        return execute(sql, params, many, context)

    @staticmethod
    def locks(sql: str) -> bool:
        if "FOR UPDATE" in sql:
            return "booking_bookingrequest" in sql
        return sql.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) and (
            _vendor() == "sqlite"
        )

    def committed(self) -> None:
        assert self.started is not None
        held, self.started = time.perf_counter() - self.started, None
        self.held = max(held, self.held or 0.0)


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def post_cancel(
    client, ids: list[int] | None, *, notify: bool, query: str = ""
) -> tuple[float, float]:
    """The confirmation page's POST ("yes, cancel"), timed; `ids=None` is "select all".
    Returns the seconds and how long the bookings' rows were locked."""
    data = {"action": "cancel_bookings", "post": "yes", "reason": REASON}
    if ids is None:
        data |= {"select_across": "1", "_selected_action": ["0"]}
    else:
        data["_selected_action"] = [str(pk) for pk in ids]
    if notify:
        data["notify_client"] = "on"
    # Django refuses a POST of more than 1000 fields (the change list shows at most 200
    # rows to tick, `list_max_show_all`): 10 000 ticked ids stand for a client program's
    # POST, or a page that could show them all.
    from django.db import connection
    from django.test import override_settings

    timer = LockTimer()
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=None), connection.execute_wrapper(timer):
        body = urlencode(data, doseq=True)  # as a browser posts the form (not multipart)
        start = time.perf_counter()
        response = client.post(
            f"{CHANGELIST}{query}",
            body,
            content_type="application/x-www-form-urlencoded",
            REMOTE_ADDR="203.0.113.10",
        )
        seconds = time.perf_counter() - start
    assert response.status_code == 302, response.status_code
    assert timer.held is not None, "no locking statement seen"
    return seconds, timer.held


def run_actions(kind: str, rows: int, cancel: int) -> dict:
    with common.throwaway_database(kind) as url:
        setup(url)
        from datetime import timedelta

        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from bench.bulk import naive_cancel
        from booking import demo
        from booking.audit import RequestContext
        from booking.models import BookingRequest, BookingStatus, Session
        from tests.factories import make_business, make_staff

        root = make_staff(username="bench-root", superuser=True)
        business = make_business(slug="bench-studio")
        demo.create_bookings(business, count=rows, seed=1)
        active = list(BookingRequest.objects.active().order_by("pk").values_list("pk", flat=True))
        sets = [active[i : 4 * cancel : 4] for i in range(4)]
        # "Select all" over a filter: the active bookings of far-off sessions (moved there).
        far = timezone.now() + timedelta(days=3650)  # after every demo session
        session = Session.objects.create(
            business=business,
            title="Far",
            starts_at=far,
            ends_at=far + timedelta(hours=1),
            capacity=cancel,
        )
        BookingRequest.objects.filter(pk__in=sets[3]).update(session=session)
        client = Client()
        client.force_login(root)
        client.get(CHANGELIST)  # warm: permissions, templates
        post_cancel(client, active[4 * cancel : 4 * cancel + 2], notify=True)  # warm: the POST
        context = RequestContext(ip_address="203.0.113.10", user_agent="bench/admin.py")
        start = time.perf_counter()
        naive_cancel(sets[0], actor=root, reason=REASON, context=context)
        naive = time.perf_counter() - start
        ticked, ticked_lock = post_cancel(client, sets[1], notify=False)
        notified, notified_lock = post_cancel(client, sets[2], notify=True)
        day = far.date().isoformat()
        query = f"?session__starts_at__gte={day}"
        across_rows = BookingRequest.objects.filter(session=session).active().count()
        across, across_lock = post_cancel(client, None, notify=False, query=query)
        cancelled = BookingRequest.objects.filter(status=BookingStatus.CANCELLED, cancelled_by=root)
        assert cancelled.count() == 3 * cancel + across_rows + 2, cancelled.count()
        assert BookingRequest.history.filter(history_change_reason=REASON).count() >= 3 * cancel
        vendor = connection.vendor
        version = connection.Database.sqlite_version if vendor == "sqlite" else ""
        return {
            "database": f"{vendor} {version or connection.pg_version // 10000}",
            "naive": naive,
            "ticked": ticked,
            "notified": notified,
            "across": across,
            "across_rows": across_rows,
            "locks": {"ticked": ticked_lock, "notified": notified_lock, "across": across_lock},
        }


def report_actions(results: list[dict], cancel: int) -> bool:
    """One row per path: seconds, ratio to the naive loop, how long rows stayed locked.

    Goals: ticked and "select all" >= 20x the loop and < 3 s; with "notify client"
    (the emails queued, rendered later by the worker) < 3 s with locks held < 1 s.
    """
    ok, table = True, []
    labels = {
        "naive": "naive save() loop, 1 transaction (baseline)",
        "ticked": "admin POST, ticked",
        "notified": "admin POST, ticked, notify client",
        "across": "admin POST, select all over a filter",
    }
    for r in results:
        for key, label in labels.items():
            seconds, ratio = r[key], r["naive"] / r[key]
            lock = r["locks"].get(key)
            if key == "naive":
                goal = None
            elif key == "notified":
                goal = seconds < GOAL_SECONDS and lock < GOAL_LOCK_SECONDS
            else:
                goal = ratio >= GOAL_RATIO and seconds < GOAL_SECONDS
            ok &= goal is not False
            verdict = "" if goal is None else ("met" if goal else "NOT met")
            rows = r["across_rows"] if key == "across" else cancel
            table.append([r["database"], label, f"{rows:,}", f"{seconds:.2f}",
                          "" if lock is None else f"{lock:.2f}", f"{ratio:.1f}x",
                          verdict])  # fmt: skip
    headers = ["database", "path", "rows", "seconds", "rows locked s", "vs naive", "goal"]
    common.print_table(headers, table)
    print(f"\ngoal: ticked and select all >= {GOAL_RATIO}x the naive loop and "
          f"< {GOAL_SECONDS:.0f} s; notify client < {GOAL_SECONDS:.0f} s with rows locked "
          f"< {GOAL_LOCK_SECONDS:.0f} s: {'met' if ok else 'NOT met'}")  # fmt: skip
    return ok


# --- The change list at a million bookings ----------------------------------------------

PAGES = [
    ("plain", ""),
    ("page 50", "?p=50"),
    ("status", "?status__exact=cancelled"),
    ("business", "?session__business__id__exact=3"),
    ("session date", "?session__starts_at__gte={today}&session__starts_at__lt={week}"),
    ("deleted=yes", "?deleted=yes"),
    ("deleted=all", "?deleted=all"),
    ("year", "?session__starts_at__year={year}"),
    ("search ref", "?q={reference}"),
    ("search email", "?q={email}"),
    ("search phone", "?q={phone}"),
    ("search name", "?q={name}"),
]


def million_url() -> str:
    server = common.postgres_url()
    if server is None:
        raise SystemExit("set DATABASE_URL=postgres://… : the change list runs on PostgreSQL")
    name = os.environ.get("BENCH_MILLION_DB", "booking_bench_million")
    import psycopg

    parts = urlsplit(server)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def render(client, url: str, runs: int) -> tuple[float, int, float]:
    """Median ms of `runs` renders, the page's query count and its queries' ms."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url  # warm (and check)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    database_ms = sum(float(q["time"]) for q in queries) * 1000
    return statistics.median(timings), len(queries), database_ms


def run_changelist(total: int, runs: int) -> bool:
    from datetime import timedelta

    setup(million_url())
    from django.contrib import admin
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import path
    from django.utils import timezone

    from bench import million
    from booking.models import BookingRequest, Business
    from tests.factories import make_staff

    started = time.perf_counter()
    seeded = million.seed(connection, bookings=total)
    seed_seconds = time.perf_counter() - started
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    root = users.filter(username="bench-root").first() or make_staff(
        username="bench-root", superuser=True
    )
    desk = users.filter(username="bench-desk").first() or make_staff(username="bench-desk")
    desk.user_permissions.set(Permission.objects.filter(codename__endswith="bookingrequest"))
    Business.objects.get(slug="chain-01").staff.add(desk)

    sample = BookingRequest.objects.filter(session__business__slug="chain-01").order_by("pk")[1000]
    # The phone searched is a whole number (the sample's, or the next one's that has one).
    phone = sample.client_phone or (
        BookingRequest.objects.filter(session__business__slug="chain-01", pk__gt=sample.pk)
        .exclude(client_phone="").order_by("pk").values_list("client_phone", flat=True).first()
    )  # fmt: skip
    today = timezone.now().date()
    values = {
        "today": f"{today}+00%3A00%3A00%2B00%3A00",
        "week": f"{today + timedelta(days=7)}+00%3A00%3A00%2B00%3A00",
        "year": today.year, "reference": sample.reference,
        "email": sample.client_email.split("@")[0], "phone": quote_plus(phone or "+49"),
        "name": sample.client_name.replace(" ", "+"),
    }  # fmt: skip
    bare_site = admin.AdminSite(name="bare")
    bare_site.register(BookingRequest)
    from project import urls as project_urls

    urls = type("urls", (), {"urlpatterns": [path("bare/", bare_site.urls),
                                             *project_urls.urlpatterns]})  # fmt: skip
    sys.modules["bench_admin_urls"] = urls  # type: ignore[assignment]
    how = f"seeded in {seed_seconds:.0f} s" if seeded else "kept from an earlier run"
    print(f"postgresql: {BookingRequest.all_objects.count():,} bookings ({how}), "
          f"median of {runs} renders; goal <= {GOAL_MS} ms per page\n")  # fmt: skip
    table, ok = [], True
    with override_settings(ROOT_URLCONF="bench_admin_urls"):
        for label, user in [("superuser", root), ("staff", desk)]:
            client = Client()
            client.force_login(user)
            for page, query in PAGES:
                ms, queries, db_ms = render(client, CHANGELIST + query.format(**values), runs)
                bare = ""
                if label == "superuser" and page in ("plain", "page 50"):
                    bare_ms, *_ = render(client, "/bare/booking/bookingrequest/" + query, runs)
                    bare = f"{bare_ms:.0f} ms ({bare_ms / ms:.1f}x ours)"
                met = ms <= GOAL_MS
                ok &= met
                table.append([label, page, f"{ms:.0f}", f"{db_ms:.0f}", str(queries), bare,
                              "met" if met else "NOT met"])  # fmt: skip
    headers = ["user", "page", "ms", "of which SQL", "queries", "bare ModelAdmin", "goal"]
    common.print_table(headers, table)
    print(f"\ngoal: every page <= {GOAL_MS} ms: {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["actions", "changelist"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cancel", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "changelist":
        total = int(os.environ.get("BENCH_BOOKINGS", 1_000_000))
        sys.exit(0 if run_changelist(total, int(os.environ.get("BENCH_RUNS", 5))) else 1)
    if args.child:  # one database per process: Django's settings are configured once
        print(json.dumps(run_actions(args.child, args.rows, args.cancel)))
        return
    kinds = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    if "postgres" in kinds and common.postgres_url() is None:
        kinds.remove("postgres")
    results = []
    for kind in kinds:
        print(f"… {kind}: {args.rows:,} bookings, cancelling 4 x {args.cancel:,}", file=sys.stderr)
        child = subprocess.run(
            [sys.executable, __file__, "actions", "--child", kind,
             "--rows", str(args.rows), "--cancel", str(args.cancel)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if child.returncode:
            sys.stderr.write(child.stderr)
            raise SystemExit(f"the {kind} run failed")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    sys.exit(0 if report_actions(results, args.cancel) else 1)


if __name__ == "__main__":
    main()
