"""Trigram indexes for the booking change list's search, on PostgreSQL only.

The admin searches with `icontains`, which PostgreSQL runs as
`UPPER(column::text) LIKE UPPER('%term%')`: no B-tree serves it, and at a
million bookings the scan took seconds. A GIN index of trigrams (pg_trgm) on
exactly that expression does. SQLite has no such index (and needs none at its
scale): there the operations do nothing. The indexes are built CONCURRENTLY
(so the migration is not atomic), which does not block writes to a live table.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

SEARCHED = ["reference", "client_name", "client_email", "client_phone"]


class PostgresSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(column: str) -> PostgresSQL:
    name = f"booking_{column}_trgm"
    return PostgresSQL(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON booking_bookingrequest "
        f"USING gin ((UPPER({column}::text)) gin_trgm_ops)",
        reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("booking", "0006_change_list_indexes")]

    operations = [TrigramExtension(), *(trigram_index(column) for column in SEARCHED)]
