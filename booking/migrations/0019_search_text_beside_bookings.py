"""The bookings' searched text in its own table, kept by triggers (PostgreSQL; see booking.search).

A status change writes a new version of the booking's row and an entry in each
of its table's indexes; a trigram index of the searched text on that table took
~60 entries per booking and most of a bulk cancel's time and WAL. Here the
text moves beside the booking: `booking_search` holds it, written by triggers
only when a booking is inserted, deleted, or one of its four searched fields
changes (a status change fires none). The rows of the bookings already there are
copied in the same transaction as the triggers' creation, so none is missed.
On SQLite the table stays empty (the search reads the booking itself).
"""

import django.db.models.deletion
from django.db import migrations, models

# booking.search.SearchedText over the rows `alias` names.
TEXT = " || E'\\n' || ".join(
    f"{{alias}}.{name}" for name in ("reference", "client_name", "client_email", "client_phone")
)

TRIGGERS = f"""
-- The copy below reads every booking: no statement timeout for it.
SET LOCAL statement_timeout = 0;

CREATE FUNCTION booking_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO booking_search (booking_id, text)
    SELECT inserted.id, {TEXT.format(alias="inserted")} FROM inserted;
    RETURN NULL;
END $$;
CREATE TRIGGER booking_search_inserted AFTER INSERT ON booking_bookingrequest
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION booking_search_inserted();

CREATE FUNCTION booking_search_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM booking_search USING deleted WHERE booking_search.booking_id = deleted.id;
    RETURN NULL;
END $$;
CREATE TRIGGER booking_search_deleted AFTER DELETE ON booking_bookingrequest
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
    EXECUTE FUNCTION booking_search_deleted();

CREATE FUNCTION booking_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE booking_search SET text = {TEXT.format(alias="NEW")}
    WHERE booking_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER booking_search_changed
    AFTER UPDATE OF reference, client_name, client_email, client_phone ON booking_bookingrequest
    FOR EACH ROW WHEN (
        (OLD.reference, OLD.client_name, OLD.client_email, OLD.client_phone)
        IS DISTINCT FROM (NEW.reference, NEW.client_name, NEW.client_email, NEW.client_phone)
    )
    EXECUTE FUNCTION booking_search_changed();

INSERT INTO booking_search (booking_id, text)
SELECT b.id, {TEXT.format(alias="b")} FROM booking_bookingrequest b;
"""

NO_TRIGGERS = """
DROP TRIGGER booking_search_changed ON booking_bookingrequest;
DROP TRIGGER booking_search_deleted ON booking_bookingrequest;
DROP TRIGGER booking_search_inserted ON booking_bookingrequest;
DROP FUNCTION booking_search_changed();
DROP FUNCTION booking_search_deleted();
DROP FUNCTION booking_search_inserted();
"""


class PostgresSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("booking", "0018_one_search_index")]

    operations = [
        migrations.CreateModel(
            name="BookingSearch",
            fields=[
                (
                    "booking",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="booking.bookingrequest",
                    ),
                ),
                ("text", models.TextField()),
            ],
            options={"db_table": "booking_search"},
        ),
        PostgresSQL(TRIGGERS, reverse_sql=NO_TRIGGERS),
    ]
