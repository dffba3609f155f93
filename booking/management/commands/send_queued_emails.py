"""`python manage.py send_queued_emails`: the outbox sweep, run every few minutes.

Hands emails that a crash left `queued` or `sending` for longer than
`--stale-after` minutes back to the task worker (which must be running to send
them). Schedule it with cron or a systemd timer, e.g. every 5 minutes:

    */5 * * * *  cd /srv/booking && .venv/bin/python manage.py send_queued_emails

Running it on several hosts at once is harmless: each email is claimed before
it is sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from booking.emails import outbox
from booking.emails.models import OutboxEmail
from booking.management.subcommands.common import positive_int


class Command(BaseCommand):
    help = "Re-enqueue emails left queued or sending by a crash (the outbox sweep)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=positive_int,
            default=int(outbox.STALE_AFTER.total_seconds() // 60),
            metavar="MINUTES",
            help="Only emails due or claimed longer ago than this (default: %(default)s).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count them.")

    def handle(self, *args: Any, stale_after: int, dry_run: bool, **options: Any) -> None:
        age = timedelta(minutes=stale_after)
        if dry_run:
            count = OutboxEmail.objects.stranded(before=timezone.now() - age).count()
            self.stdout.write(f"Would re-enqueue {count} stranded email(s).")
            return
        count = outbox.sweep(stale_after=age)
        self.stdout.write(self.style.SUCCESS(f"Re-enqueued {count} stranded email(s)."))
