"""A chain's worth of bookings, seeded in SQL on PostgreSQL (about a minute for 1 000 000).

    from bench import million
    million.seed(connection, bookings=1_000_000)   # once; later calls keep the rows

Twenty businesses with one session per 8 bookings, spread over two years
before and one year after now; bookings with the demo's mix of statuses, 2 %
soft-deleted, client names from the demo's lists and unique references (a
bijection of the row number onto the reference alphabet, so no retry is
needed). The first business holds 10 % of the rows: its staff member is the
benchmark's tenant-scoped user. Rows are written with `generate_series` in
one statement per table, then the tables are analysed. No historical records:
the change list never reads them.
"""

from __future__ import annotations

from typing import Any

from booking.demo import FIRST_NAMES, LAST_NAMES, TITLES
from booking.models import REFERENCE_ALPHABET

BUSINESSES = 20
BOOKINGS_PER_SESSION = 8
SLUG = "chain-{:02d}"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def seeded(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM booking_bookingrequest")
        return cursor.fetchone()[0]


def seed(connection: Any, *, bookings: int) -> bool:
    """Fill the (empty) booking tables; returns False when they already hold `bookings` rows."""
    if seeded(connection) >= bookings:
        return False
    sessions = max(1, bookings // BOOKINGS_PER_SESSION)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE booking_bookingrequest, booking_historicalbookingrequest, "
            "booking_outboxemail, booking_session, booking_historicalsession, "
            "booking_bookingsettings, booking_business CASCADE"
        )
        cursor.execute(
            f"""
            INSERT INTO booking_business (id, name, slug, contact_email, contact_phone, timezone)
            SELECT i, 'Chain studio ' || i, format('chain-%s', lpad(i::text, 2, '0')),
                   format('desk%s@chain.example', i), '+49 30 1234567', 'Europe/Berlin'
            FROM generate_series(1, {BUSINESSES}) AS i
            """
        )
        cursor.execute(
            """
            INSERT INTO booking_bookingsettings (business_id, allow_client_cancellation,
                cancellation_deadline_hours, send_cancellation_emails, cancellation_fee_policy,
                allow_admin_deletion, require_deletion_reason)
            SELECT id, true, 24, true, '', true, true FROM booking_business
            """
        )
        # Session n belongs to business 1 for a tenth of n, else to one of the others.
        cursor.execute(
            f"""
            INSERT INTO booking_session (id, business_id, title, starts_at, ends_at, capacity)
            SELECT n,
                   CASE WHEN n % 10 = 0 THEN 1 ELSE 2 + n % {BUSINESSES - 1} END,
                   ({_array(TITLES)})[1 + n % {len(TITLES)}],
                   s, s + interval '45 minutes', 20
            FROM generate_series(1, {sessions}) AS n,
                 LATERAL (SELECT date_trunc('hour', now() - interval '730 days'
                          + (n::float / {sessions}) * interval '1095 days') AS s) AS t
            """
        )
        alphabet = REFERENCE_ALPHABET
        reference = " || ".join(
            f"substr('{alphabet}', 1 + ((k >> {5 * i}) & 31)::int, 1)" for i in range(7, -1, -1)
        )
        cursor.execute(
            f"""
            INSERT INTO booking_bookingrequest (id, session_id, reference, client_name,
                client_email, client_phone, status, created_at, updated_at, cancelled_at,
                cancellation_reason, cancelled_by_client, is_deleted, deleted_at,
                deletion_reason)
            SELECT n, b.session_id, {reference},
                   f || ' ' || l,
                   lower(replace(f || '.' || l, ' ', '')) || n || '@example.com',
                   CASE WHEN n % 5 = 0 THEN ''
                        ELSE '+49 151 ' || lpad((n * 7919 % 100000000)::text, 8, '0') END,
                   CASE WHEN r < 0.35 THEN 'pending' WHEN r < 0.85 THEN 'approved'
                        WHEN r < 0.92 THEN 'rejected' ELSE 'cancelled' END,
                   s.starts_at - interval '3 days', s.starts_at - interval '3 days',
                   CASE WHEN r >= 0.92 THEN s.starts_at - interval '2 days' END,
                   CASE WHEN r >= 0.92 THEN 'Feeling unwell' ELSE '' END,
                   r >= 0.92,
                   n % 50 = 7,
                   CASE WHEN n % 50 = 7 THEN s.starts_at - interval '1 day' END,
                   CASE WHEN n % 50 = 7 THEN 'Duplicate' ELSE '' END
            FROM generate_series(1::bigint, {bookings}) AS n
            CROSS JOIN LATERAL (SELECT
                1 + (n - 1) % {sessions} AS session_id,
                (n * 2654435761::bigint) % 1099511627776 AS k,
                (n * 48271 % 2147483647)::float / 2147483647 AS r,
                ({_array(FIRST_NAMES)})[1 + n % {len(FIRST_NAMES)}] AS f,
                ({_array(LAST_NAMES)})[1 + (n / 7) % {len(LAST_NAMES)}] AS l) AS b
            JOIN booking_session AS s ON s.id = b.session_id
            """
        )
        for table in ("booking_business", "booking_session", "booking_bookingrequest"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE booking_bookingrequest")
        cursor.execute("VACUUM ANALYZE booking_session")
    return True
