"""Fewer indexes on bookings: each gets an entry for every booking a status change writes.

The status alone is read through (is_deleted, status), and no query compares the
client's email exactly (the search index finds it, 0018). The foreign keys to
who cancelled, deleted or waived are read only when a user is deleted: their
indexes now hold only the rows that name one.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0016_outbox_render_later"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="bookingrequest",
            name="booking_status_idx",
        ),
        migrations.RemoveIndex(
            model_name="bookingrequest",
            name="booking_client_email_idx",
        ),
        migrations.AlterField(
            model_name="bookingrequest",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="bookingrequest",
            name="deleted_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="bookingrequest",
            name="fee_waived_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="bookingrequest",
            index=models.Index(
                condition=models.Q(("cancelled_by__isnull", False)),
                fields=["cancelled_by"],
                name="booking_cancelled_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="bookingrequest",
            index=models.Index(
                condition=models.Q(("deleted_by__isnull", False)),
                fields=["deleted_by"],
                name="booking_deleted_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="bookingrequest",
            index=models.Index(
                condition=models.Q(("fee_waived_by__isnull", False)),
                fields=["fee_waived_by"],
                name="booking_fee_waived_by_idx",
            ),
        ),
    ]
