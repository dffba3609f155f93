"""The booking table's trigram indexes go (PostgreSQL only): the search reads one, beside it.

The admin matches each search word against the reference, client name, email
and phone joined by a newline (`booking.search`); one trigram index on that
text, in its own table (0019, 0020), serves it, where 0007 kept four on the
bookings' table, each given entries for every booking a status change writes.
The reference's `varchar_pattern_ops` twin (Django's, for `LIKE 'x%'`) served
no query either. (A first version of this migration built the joined text's
index on the bookings' table: 0020 drops it where it exists.) SQLite has none
of these (the operations do nothing there). Dropped CONCURRENTLY (so the
migration is not atomic), which does not block a live table.
"""

from django.db import migrations

SEARCHED = ["reference", "client_name", "client_email", "client_phone"]
REFERENCE_LIKE = "booking_bookingrequest_reference_2f876d69_like"


class PostgresSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def drop(name: str, definition: str) -> PostgresSQL:
    """Drop index `name`; going back builds it again (with no statement timeout: it may
    take minutes on a large table)."""
    return PostgresSQL(
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        reverse_sql=[
            "SET statement_timeout = 0",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON booking_bookingrequest "
            f"{definition}",
            "RESET statement_timeout",
        ],
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("booking", "0017_fewer_booking_indexes")]

    operations = [
        *(
            drop(f"booking_{column}_trgm", f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")
            for column in SEARCHED
        ),
        drop(REFERENCE_LIKE, "(reference varchar_pattern_ops)"),
    ]
