"""What the bookings' indexes cost a status change: the bulk UPDATE of a cancel, on PostgreSQL.

    DATABASE_URL=postgres://… .venv/bin/python bench/update.py

In a throwaway database (bench/common.py): ROWS bookings (bench/million.py),
then `EXPLAIN (ANALYZE, WAL)` of the UPDATE a cancel of CHANGED of them does
(status, time, who, reason; rolled back, the table vacuumed before each run),
median of RUNS runs on different rows, and of RUNS more each right after a
CHECKPOINT (the WAL then holds each touched page whole), with the bookings' indexes as each
schema leaves them: before this design (migration 0016: per-field trigram
indexes and the B-trees no query used), with the joined search text's trigram
index on the bookings' table (the first version of 0018), and now (the text
and its index beside the bookings, in `booking_search`). A status change is
never a HOT update (status is indexed): each index gets an entry per row.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

ROWS, CHANGED, RUNS = 100_000, 10_000, 4
JOINED_ON_BOOKINGS = (
    "CREATE INDEX booking_search_trgm ON booking_bookingrequest USING gin "
    "((UPPER((reference || E'\\n' || client_name || E'\\n' || client_email || E'\\n' "
    "|| client_phone)::text)) gin_trgm_ops)"
)
UPDATE = """EXPLAIN (ANALYZE, WAL, FORMAT JSON)
UPDATE booking_bookingrequest SET status = 'cancelled', cancelled_at = now(),
    updated_at = now(), cancelled_by_id = {user}, cancellation_reason = 'Studio closed'
WHERE id IN (SELECT id FROM booking_bookingrequest WHERE status IN ('pending', 'approved')
             AND NOT is_deleted ORDER BY id LIMIT {limit} OFFSET {offset})"""


def run(user_id: int, offset: int, *, checkpoint: bool) -> tuple[float, float]:
    """One UPDATE, rolled back: its ms and MB of WAL. After a checkpoint, the first change
    of each page since writes the whole page to the WAL (as a production server's
    periodic checkpoints make some changes do)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("VACUUM booking_bookingrequest")
        if checkpoint:
            cursor.execute("CHECKPOINT")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(UPDATE.format(user=int(user_id), limit=CHANGED, offset=int(offset)))
        plan = cursor.fetchone()[0]
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
        transaction.set_rollback(True)
    return plan["Execution Time"], plan["Plan"]["WAL Bytes"] / 1e6


def measure(label: str, user_id: int) -> list[str]:
    """Median ms and WAL of RUNS updates, then of RUNS more each after a checkpoint."""
    from django.db import connection

    plain = [run(user_id, CHANGED * n, checkpoint=False) for n in range(RUNS)]
    after = [run(user_id, CHANGED * (RUNS + n), checkpoint=True) for n in range(RUNS)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'booking_bookingrequest'")
        indexes = cursor.fetchone()[0]
    cells = [label, str(indexes)]
    for runs in (plain, after):
        cells += [f"{statistics.median(r[0] for r in runs):.0f}",
                  f"{statistics.median(r[1] for r in runs):.1f}"]  # fmt: skip
    return cells


def main() -> None:
    with common.throwaway_database("postgres") as url:
        common.setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        from bench import million
        from tests.factories import make_staff

        million.seed(connection, bookings=ROWS)
        user = make_staff(username="bench-update", superuser=True)
        rows = [measure("now (0020)", user.pk)]
        with connection.cursor() as cursor:
            cursor.execute(JOINED_ON_BOOKINGS)
        rows.append(measure("joined text's index on the bookings (first 0018)", user.pk))
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX booking_search_trgm")
        call_command("migrate", "booking", "0016", verbosity=0)
        rows.append(measure("before (0016)", user.pk))
        call_command("migrate", verbosity=0)
        rows.append(measure("now again (0020)", user.pk))
    print(f"postgresql: {ROWS:,} bookings; UPDATE of {CHANGED:,} (a cancel), rolled back; "
          f"median of {RUNS}\n")  # fmt: skip
    headers = ["schema", "indexes", "ms", "WAL MB", "ms, checkpoint", "WAL MB, checkpoint"]
    common.print_table(headers, rows)


if __name__ == "__main__":
    main()
