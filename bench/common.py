"""What every benchmark needs: a throwaway database, Django on it, and honest measurements.

A benchmark never touches the development database (db.sqlite3) nor the one
DATABASE_URL names: SQLite runs on a file in a temporary directory, PostgreSQL
on a fresh database created beside the given one and dropped afterwards.

    from bench import common
    with common.throwaway_database("sqlite") as url:
        common.setup_django(url)
        ...
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def postgres_url() -> str | None:
    """The PostgreSQL server to benchmark on: DATABASE_URL when it names one."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextmanager
def throwaway_database(kind: str) -> Iterator[str]:
    """Yield the URL of a new, empty database of `kind` ("sqlite" or "postgres"), then drop it."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="booking-bench-") as directory:
            yield f"sqlite:///{directory}/bench.sqlite3"
        return
    server = postgres_url()
    if server is None:
        raise RuntimeError("set DATABASE_URL=postgres://… to benchmark on PostgreSQL")
    import psycopg

    parts = urlsplit(server)
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_{os.getpid()}"
    # Create and drop through the maintenance database: the named one may not exist.
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    """Configure Django on `database_url` (development settings) and migrate it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class QueryCounter:
    """Counts the statements sent to the database (an executemany counts once)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ):
        self.count += 1
        return execute(sql, params, many, context)


@dataclass
class Measurement:
    seconds: float
    queries: int
    result: Any = None


def measure(work: Callable[[], Any]) -> Measurement:
    """Wall time and statement count of `work()` (no memory tracing: it would slow it)."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    return Measurement(seconds, counter.count, result)


def peak_memory_mb(work: Callable[[], Any]) -> float:
    """Peak Python heap allocated while `work()` runs, in MiB (tracemalloc; run it untimed)."""
    tracemalloc.start()
    try:
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, ready for the README."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "| " + " | ".join(f"{c!s:<{w}}" for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
