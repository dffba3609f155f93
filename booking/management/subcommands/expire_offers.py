"""bookings expire-offers [--dry-run]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from booking.audit import RequestContext
from booking.services import waitlist
from booking.waitlist.models import WaitlistEntry

help = (
    "Waitlist: close the offers whose claim window has ended and offer their spots to the "
    "next waiting clients (the worker does this on its own within a minute)."
)


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="Only count the ended offers.")


def handle(command: BaseCommand, *, dry_run: bool, **_: Any) -> None:
    now = timezone.now()
    if dry_run:
        count = WaitlistEntry.objects.lapsed(now=now).count()
        command.stdout.write(f"Dry run: would close {count} ended offer(s).")
        return
    count = waitlist.expire_offers(
        now=now, context=RequestContext.command("bookings expire-offers")
    )
    command.stdout.write(
        command.style.SUCCESS(f"Closed {count} ended offer(s); their spots were offered on.")
    )
