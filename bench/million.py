"""A chain's worth of bookings, seeded in SQL on PostgreSQL (about a minute for 1 000 000).

    from bench import million
    million.seed(connection, bookings=1_000_000)   # once; later calls keep the rows

Twenty businesses with one session per 8 bookings, spread over two years
before and one year after now; bookings with the demo's mix of statuses, 2 %
soft-deleted, client names from the demo's lists, a phone number on four
bookings in five (in every business alike) and unique references (a
bijection of the row number onto the reference alphabet, so no retry is
needed). The first business holds 10 % of the rows: its staff member is the
benchmark's tenant-scoped user. Rows are written with `generate_series` in
one statement per table, then the tables are analysed. No historical records:
the change list never reads them.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from booking.demo import FIRST_NAMES, LAST_NAMES, TITLES
from booking.models import (
    REFERENCE_ALPHABET,
    BookingRequest,
    BookingSearch,
    BookingSettings,
    Business,
    Session,
)

BUSINESSES = 20
BOOKINGS_PER_SESSION = 8
SLUG = "chain-{:02d}"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _rest(connection: Any, model: type[models.Model], named: str) -> tuple[str, str]:
    """The columns of `model` the statement does not name, and their defaults as SQL literals.

    A field added later (a currency, a fee) gets its model default, so the seed
    keeps up with the schema without naming every column.
    """
    given = {name.strip() for name in named.split(",")}
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key or field.null:
            continue
        value = field.get_db_prep_save(field.get_default(), connection)
        columns.append(f", {connection.ops.quote_name(field.column)}")
        values.append(f", {connection.ops.compose_sql('%s', [value])}")
    return "".join(columns), "".join(values)


def _insert(
    connection: Any, cursor: Any, model: type[models.Model], named: str, select: str, rest: str
) -> None:
    """`INSERT INTO table (named, defaults…) SELECT select, default values… rest`."""
    columns, values = _rest(connection, model, named)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({named}{columns}) SELECT {select}{values} {rest}"
    )


def seeded(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM booking_bookingrequest")
        return cursor.fetchone()[0]


def seed(connection: Any, *, bookings: int) -> bool:
    """Fill the (empty) booking tables; returns False when they already hold `bookings` rows."""
    if seeded(connection) >= bookings:
        return False
    sessions = max(1, bookings // BOOKINGS_PER_SESSION)
    # One transaction: a seed cut short leaves the tables (and their indexes) as they were.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Minutes of work in a few statements: no statement timeout (the settings set
        # one for requests), memory for the index builds.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Foreign keys checked at each statement's end, not queued until the commit
        # (an index cannot be built on a table with checks pending).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE booking_bookingrequest, booking_search, booking_historicalbookingrequest, "
            "booking_outboxemail, booking_session, booking_historicalsession, "
            "booking_bookingsettings, booking_business CASCADE"
        )
        _insert(
            connection, cursor, Business,
            "id, name, slug, contact_email, contact_phone, timezone",
            "i, 'Chain studio ' || i, format('chain-%s', lpad(i::text, 2, '0')), "
            "format('desk%s@chain.example', i), '+49 30 1234567', 'Europe/Berlin'",
            f"FROM generate_series(1, {BUSINESSES}) AS i",
        )  # fmt: skip
        _insert(
            connection, cursor, BookingSettings,
            "business_id, allow_client_cancellation, cancellation_deadline_hours, "
            "send_cancellation_emails, cancellation_fee_policy, allow_admin_deletion, "
            "require_deletion_reason",
            "id, true, 24, true, '', true, true",
            "FROM booking_business",
        )  # fmt: skip
        # Session n belongs to business 1 for a tenth of n, else to one of the others.
        _insert(
            connection, cursor, Session,
            "id, business_id, title, starts_at, ends_at, capacity",
            f"""n,
                   CASE WHEN n % 10 = 0 THEN 1 ELSE 2 + n % {BUSINESSES - 1} END,
                   ({_array(TITLES)})[1 + n % {len(TITLES)}],
                   s, s + interval '45 minutes', 20""",
            f"""FROM generate_series(1, {sessions}) AS n,
                 LATERAL (SELECT date_trunc('hour', now() - interval '730 days'
                          + (n::float / {sessions}) * interval '1095 days') AS s) AS t""",
        )  # fmt: skip
        alphabet = REFERENCE_ALPHABET
        reference = " || ".join(
            f"substr('{alphabet}', 1 + ((k >> {5 * i}) & 31)::int, 1)" for i in range(7, -1, -1)
        )
        # The bookings' own indexes and their searched text's (booking.search, written by
        # a trigger), not those behind constraints, are built once the rows are in: ten
        # times faster than updating them row by row.
        cursor.execute(
            """SELECT indexname, indexdef FROM pg_indexes i WHERE tablename IN (%s, %s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [BookingRequest._meta.db_table, BookingSearch._meta.db_table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        phone = "lpad((n * 7919 % 100000000)::text, 8, '0')"
        _insert(
            connection, cursor, BookingRequest,
            "id, session_id, reference, client_name, client_email, client_phone, "
            "client_phone_e164, status, created_at, updated_at, cancelled_at, "
            "cancellation_reason, cancelled_by_client, is_deleted, deleted_at, deletion_reason",
            f"""n, b.session_id, {reference},
                   f || ' ' || l,
                   lower(replace(f || '.' || l, ' ', '')) || n || '@example.com',
                   CASE WHEN (n / 10) % 5 = 0 THEN '' ELSE '+49 151 ' || {phone} END,
                   CASE WHEN (n / 10) % 5 = 0 THEN '' ELSE '+49151' || {phone} END,
                   CASE WHEN r < 0.35 THEN 'pending' WHEN r < 0.85 THEN 'approved'
                        WHEN r < 0.92 THEN 'rejected' ELSE 'cancelled' END,
                   s.starts_at - interval '3 days', s.starts_at - interval '3 days',
                   CASE WHEN r >= 0.92 THEN s.starts_at - interval '2 days' END,
                   CASE WHEN r >= 0.92 THEN 'Feeling unwell' ELSE '' END,
                   r >= 0.92,
                   n % 50 = 7,
                   CASE WHEN n % 50 = 7 THEN s.starts_at - interval '1 day' END,
                   CASE WHEN n % 50 = 7 THEN 'Duplicate' ELSE '' END""",
            f"""FROM generate_series(1::bigint, {bookings}) AS n
            CROSS JOIN LATERAL (SELECT
                1 + (n - 1) % {sessions} AS session_id,
                (n * 2654435761::bigint) % 1099511627776 AS k,
                (n * 48271 % 2147483647)::float / 2147483647 AS r,
                ({_array(FIRST_NAMES)})[1 + n % {len(FIRST_NAMES)}] AS f,
                ({_array(LAST_NAMES)})[1 + (n / 7) % {len(LAST_NAMES)}] AS l) AS b
            JOIN booking_session AS s ON s.id = b.session_id""",
        )  # fmt: skip
        for _, definition in indexes:
            cursor.execute(definition)
        for table in ("booking_business", "booking_session", "booking_bookingrequest"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("VACUUM ANALYZE booking_bookingrequest")
        cursor.execute("VACUUM ANALYZE booking_search")
        cursor.execute("VACUUM ANALYZE booking_session")
        cursor.execute("RESET statement_timeout")
    return True
