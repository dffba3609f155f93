"""`python manage.py send_queued_emails`: the outbox sweep.

Hands emails that a crash left `queued` or `sending` for longer than
`--stale-after` minutes back to the task worker (which must be running to send
them), and marks email tasks whose worker died as failed. With `--every
SECONDS` it keeps sweeping (`make run` and the production process list run it
beside the worker with `--every 60`), so a killed worker needs no operator:
its emails go out within 5 minutes of a worker running again. Without it, one
sweep (for cron or a systemd timer).

Each round also closes waitlist offers whose window has ended and offers their
spots on (`waitlist.expire_offers`): the worker does it on its own (a task
enqueued for the end of each offer), and this catches a task lost to a crash
between a commit and its enqueue, so an ended offer never waits for an operator.

It also queues again the session cancellations (large sessions' bookings,
cancelled in the background) that a lost worker left unfinished, so they end
without an operator too.

Running it on several hosts at once is harmless: each email is claimed before
it is sent, and each offer is closed under its session's lock.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from booking.emails import outbox
from booking.emails.models import OutboxEmail
from booking.management.subcommands.common import positive_int
from booking.services import waitlist
from booking.services.sessions import resume_stranded_jobs


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
        parser.add_argument(
            "--every",
            type=positive_int,
            metavar="SECONDS",
            help="Keep sweeping, every SECONDS (beside the worker), until stopped.",
        )
        parser.add_argument("--rounds", type=positive_int, help=argparse.SUPPRESS)

    def handle(
        self,
        *args: Any,
        stale_after: int,
        dry_run: bool,
        every: int | None,
        rounds: int | None,
        **options: Any,
    ) -> None:
        age = timedelta(minutes=stale_after)
        if dry_run:
            count = OutboxEmail.objects.stranded(before=timezone.now() - age).count()
            self.stdout.write(f"Would re-enqueue {count} stranded email(s).")
            return
        done = 0
        while True:
            count = outbox.sweep(stale_after=age)
            lost = outbox.fail_lost_tasks()
            expired = waitlist.expire_offers()
            resumed = resume_stranded_jobs()
            if not every or count or lost or expired or resumed:
                note = f" Marked {lost} task(s) of lost workers failed." if lost else ""
                note += f" Passed on {expired} ended waitlist offer(s)." if expired else ""
                note += f" Resumed {resumed} session cancellation(s)." if resumed else ""
                self.stdout.write(
                    self.style.SUCCESS(f"Re-enqueued {count} stranded email(s).{note}")
                )
            done += 1
            if not every or (rounds and done >= rounds):
                return
            time.sleep(every)
            close_old_connections()  # a long-running loop, like a request: drop stale ones
