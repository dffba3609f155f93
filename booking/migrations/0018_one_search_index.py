"""One trigram index for the booking search instead of one per searched field (PostgreSQL only).

The admin matches each search word against the reference, client name, email
and phone joined by a newline (`booking.models.SearchedText`): one GIN index of
trigrams (pg_trgm) on that text's UPPER serves it, where 0007 kept four, each
written for every booking a status change writes. The reference's
`varchar_pattern_ops` twin (Django's, for `LIKE 'x%'`) served no query either.
SQLite has none of these (the operations do nothing there). Indexes are built
and dropped CONCURRENTLY (so the migration is not atomic), which does not block
writes to a live table.
"""

from django.db import migrations

SEARCHED = ["reference", "client_name", "client_email", "client_phone"]
# SearchedText's SQL, UPPER as `icontains` compiles it; the separator is a newline.
SEARCHED_TEXT = "UPPER((" + " || '\n' || ".join(SEARCHED) + ")::text)"
REFERENCE_LIKE = "booking_bookingrequest_reference_2f876d69_like"


class PostgresSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def index(name: str, definition: str) -> tuple[str, str]:
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON booking_bookingrequest {definition}",
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
    )


def create(name: str, definition: str) -> PostgresSQL:
    up, down = index(name, definition)
    return PostgresSQL(up, reverse_sql=down)


def drop(name: str, definition: str) -> PostgresSQL:
    up, down = index(name, definition)
    return PostgresSQL(down, reverse_sql=up)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("booking", "0017_fewer_booking_indexes")]

    operations = [
        create("booking_search_trgm", f"USING gin (({SEARCHED_TEXT}) gin_trgm_ops)"),
        *(
            drop(f"booking_{column}_trgm", f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")
            for column in SEARCHED
        ),
        drop(REFERENCE_LIKE, "(reference varchar_pattern_ops)"),
    ]
