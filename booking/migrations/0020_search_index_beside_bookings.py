"""The search's trigram index moves to `booking_search` (PostgreSQL only; see 0019).

`UPPER(text)`, as `icontains` compiles it, in a GIN index of trigrams (pg_trgm);
the one a first version of 0018 built on the bookings' table goes, where it
exists. Built and dropped CONCURRENTLY (so the migration is not atomic), which
does not block writes to a live table.
"""

from django.db import migrations

OLD = (
    "USING gin ((UPPER((reference || '\n' || client_name || '\n' || client_email"
    " || '\n' || client_phone)::text)) gin_trgm_ops)"
)


class PostgresSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("booking", "0019_search_text_beside_bookings")]

    operations = [
        PostgresSQL(
            [
                # Minutes on a large table: no statement timeout for the build.
                "SET statement_timeout = 0",
                # An earlier attempt cut short leaves an invalid index of this name.
                "DROP INDEX CONCURRENTLY IF EXISTS booking_search_text_trgm",
                "CREATE INDEX CONCURRENTLY booking_search_text_trgm ON booking_search "
                "USING gin ((UPPER(text)) gin_trgm_ops)",
                "RESET statement_timeout",
            ],
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS booking_search_text_trgm",
        ),
        # Built by the first version of 0018.
        PostgresSQL(
            "DROP INDEX CONCURRENTLY IF EXISTS booking_search_trgm",
            reverse_sql=[
                "SET statement_timeout = 0",
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS booking_search_trgm "
                f"ON booking_bookingrequest {OLD}",
                "RESET statement_timeout",
            ],
        ),
    ]
