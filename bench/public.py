"""Benchmark of the public client API under gunicorn (2 sync workers), SQLite and PostgreSQL.

    .venv/bin/python bench/public.py [--databases sqlite postgres] [--requests 1500]
                                     [--seconds 15] [--concurrency 4] [--postgres-url URL]
                                     [--redis-url URL | --locmem]

The PostgreSQL database must exist (`createdb -h 127.0.0.1 -U postgres public_db`).
For each database it migrates and seeds a bench business once (200 sessions,
5000 bookings), starts gunicorn with 2 workers on 127.0.0.1, and measures in
the same run, one endpoint after the other:

    bare      GET  /bench/bare/<pk>/                  a bare view doing one primary-key lookup
    api-get   GET  /api/booking/client/<ref>/         the public booking (200)
    api-fail  POST /api/booking/client/<ref>/cancel/  a wrong email (403): lookup, row lock,
                                                      throttle check and count, verification

Each endpoint gets 50 warm-up requests, then up to --requests requests or
--seconds seconds, whichever ends first, from --concurrency client threads,
in 5 round-robin rounds (so the machine's other load falls on all alike).
Load only ever goes to 127.0.0.1. The failure limits are lifted in
bench/settings_public.py so that every failing POST runs the whole path.

It measures the production configuration: DEBUG off, gunicorn with 2 workers,
and the rate-limit counters in Redis (REDIS_URL, default redis://127.0.0.1:6379/0,
under a key prefix unique to the run, deleted afterwards; never a flush).
`--locmem` keeps them in each worker's local memory instead, for comparison.
Goal: the failing POST at >= 50% of the bare view's throughput; the last lines
print each database's ratio beside it. The client runs on the same machine and
takes CPU from the server: compare the rows with each other, not with other machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SETTINGS = "bench.settings_public"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/public_db"
HOST = "127.0.0.1"
WARMUP = 50
ROUNDS = 5
WRONG_EMAIL = json.dumps({"client_email": "nobody@example.invalid"}).encode()
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
GOAL = 0.5
KEY_PREFIX = f"bench-public-{uuid.uuid4().hex}"


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    expected: int
    body: bytes | None = None


@dataclass
class Result:
    database: str
    endpoint: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000


# --- Preparing a database (runs in a child process with its DATABASE_URL) ---------


def prepare() -> None:
    """Migrate, seed the bench business once, and print the ids the load will use."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from booking import demo
    from booking.models import BookingRequest, Business

    call_command("migrate", verbosity=0, interactive=False)
    business, created = Business.objects.get_or_create(
        slug="bench-public",
        defaults={"name": "Bench Fitness", "timezone": "Europe/London"},
    )
    if created or not business.sessions.exists():
        demo.create_sessions(business, count=200, seed=1)
        demo.create_bookings(business, count=5000, seed=1)
    booking = (
        BookingRequest.objects.filter(
            session__business=business, session__starts_at__gt=timezone.now() + timedelta(days=2)
        )
        .active()
        .order_by("pk")
        .first()
    )
    if booking is None:
        raise SystemExit("no active future booking to benchmark: delete the bench business")
    print(json.dumps({"reference": booking.reference, "pk": booking.pk}))


REDIS = {"url": DEFAULT_REDIS}


def _env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    if REDIS["url"]:
        env.update(REDIS_URL=REDIS["url"], BENCH_KEY_PREFIX=KEY_PREFIX)
    return env


def delete_counters() -> None:
    """Delete this run's keys (and only them) from Redis."""
    if not REDIS["url"]:
        return
    import redis

    client = redis.Redis.from_url(REDIS["url"])
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


def prepared(database_url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--prepare"],
        cwd=ROOT, env=_env(database_url), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"preparing {database_url} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Serving and loading ------------------------------------------------------------


PORTS = {"first": 0}


def free_port() -> int:
    """The first free port from --port on (0: any the system gives)."""
    first = PORTS["first"]
    for port in range(first, first + 10) if first else [0]:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise SystemExit(f"no free port in {first}-{first + 9}")


def request(port: int, endpoint: Endpoint) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if endpoint.body else {}
        connection.request(endpoint.method, endpoint.path, body=endpoint.body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def wait_until_serving(port: int, endpoint: Endpoint, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            if request(port, endpoint)[0] == endpoint.expected:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 seconds")


def load(
    port: int, endpoint: Endpoint, *, database: str, requests: int, seconds: float, threads: int
) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            status, latency = request(port, endpoint)
            with lock:
                latencies.append(latency)
                errors += status != endpoint.expected

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return Result(database, endpoint.name, len(latencies), errors, elapsed, latencies)


def bench_database(database: str, database_url: str, args: argparse.Namespace) -> list[Result]:
    ids = prepared(database_url)
    reference, pk = ids["reference"], ids["pk"]
    endpoints = [
        Endpoint("bare pk lookup", "GET", f"/bench/bare/{pk}/", 200),
        Endpoint("API GET", "GET", f"/api/booking/client/{reference}/", 200),
        Endpoint(
            "API POST, failing verification",
            "POST",
            f"/api/booking/client/{reference}/cancel/",
            403,
            WRONG_EMAIL,
        ),
    ]
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "project.wsgi:application",
            "--workers", "2", "--bind", f"{HOST}:{port}", "--chdir", str(ROOT),
            "--log-level", "warning",
        ],
        cwd=ROOT, env=_env(database_url),
    )  # fmt: skip
    totals = {e.name: Result(database, e.name, 0, 0, 0.0, []) for e in endpoints}
    try:
        wait_until_serving(port, endpoints[0], server)
        for endpoint in endpoints:
            for _ in range(WARMUP):
                request(port, endpoint)
        # Round-robin in short rounds, so that a change in the machine's other
        # load falls on every endpoint alike.
        for _ in range(ROUNDS):
            for endpoint in endpoints:
                part = load(
                    port, endpoint, database=database, requests=args.requests // ROUNDS,
                    seconds=args.seconds / ROUNDS, threads=args.concurrency,
                )  # fmt: skip
                total = totals[endpoint.name]
                total.requests += part.requests
                total.errors += part.errors
                total.seconds += part.seconds
                total.latencies += part.latencies
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return list(totals.values())


def goals(results: list[Result]) -> str:
    bare = {r.database: r.rps for r in results if r.endpoint == "bare pk lookup"}
    lines = []
    for r in results:
        if r.endpoint.startswith("API POST"):
            ratio = r.rps / bare[r.database]
            verdict = "met" if ratio >= GOAL else "NOT met"
            lines.append(
                f"{r.database}: failing POST at {ratio:.0%} of the bare view "
                f"(goal >= {GOAL:.0%}): {verdict}"
            )
    return "\n".join(lines)


def table(results: list[Result]) -> str:
    lines = [
        "| database | endpoint | requests | errors | req/s | p50 ms | p95 ms | vs bare |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    bare = {r.database: r.rps for r in results if r.endpoint == "bare pk lookup"}
    for r in results:
        lines.append(
            f"| {r.database} | {r.endpoint} | {r.requests} | {r.errors} | {r.rps:.0f} "
            f"| {r.percentile(50):.1f} | {r.percentile(95):.1f} | {r.rps / bare[r.database]:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--requests", type=int, default=1500, help="per endpoint (max 20000)")
    parser.add_argument("--seconds", type=float, default=15, help="per endpoint (max 60)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (max 16)")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument(
        "--port", type=int, default=0, help="serve on the first free port from here"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="the counters' Redis")
    parser.add_argument(
        "--locmem", action="store_true", help="counters in local memory instead of Redis"
    )
    args = parser.parse_args()
    REDIS["url"] = "" if args.locmem else args.redis_url
    PORTS["first"] = args.port
    if args.prepare:
        sys.path.insert(0, str(ROOT))
        prepare()
        return
    args.requests = min(args.requests, 20_000)
    args.seconds = min(args.seconds, 60)
    args.concurrency = max(1, min(args.concurrency, 16))

    RESULTS.mkdir(parents=True, exist_ok=True)
    urls = {
        "sqlite": f"sqlite:///{RESULTS / 'public-bench.sqlite3'}",
        "postgres": args.postgres_url,
    }
    results: list[Result] = []
    try:
        for database in args.databases:
            print(f"== {database}: preparing and serving with gunicorn -w 2", file=sys.stderr)
            results.extend(bench_database(database, urls[database], args))
    finally:
        delete_counters()
    counters = f"Redis ({REDIS['url']})" if REDIS["url"] else "local memory (--locmem)"
    print(
        f"\nDEBUG off, gunicorn -w 2, rate-limit counters in {counters}; {args.concurrency} "
        f"client threads; per endpoint up to {args.requests} requests or {args.seconds:g} s, "
        f"in {ROUNDS} round-robin rounds after {WARMUP} warm-up requests.\n"
    )
    print(table(results))
    print()
    print(goals(results))


if __name__ == "__main__":
    main()
