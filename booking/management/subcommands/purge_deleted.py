"""bookings purge-deleted --older-than DAYS [--reason R] [--dry-run]"""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from booking import services
from booking.audit import RequestContext
from booking.management.subcommands.common import positive_int
from booking.management.subcommands.selection import preview, report
from booking.models import BookingRequest
from booking.services import rules

help = (
    "Retention: permanently purge bookings soft-deleted more than DAYS days ago "
    "(the audit trail keeps their final record)."
)


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS")
    parser.add_argument("--reason", default="", help="Recorded in the audit trail.")
    parser.add_argument("--dry-run", action="store_true", help="Show what would be purged.")


def handle(command: BaseCommand, *, older_than: int, reason: str, dry_run: bool, **_: Any) -> None:
    now = timezone.now()
    cutoff = now - timedelta(days=older_than)
    reason = services.clean_reason(
        reason or f"Retention: soft-deleted more than {older_than} days ago"
    )
    bookings = BookingRequest.all_objects.purgeable(older_than=cutoff)
    if dry_run:
        return preview(command, bookings, lambda b: rules.check_purge(b, reason=reason), "purge")
    result = services.purge_bookings(
        bookings,
        actor=None,
        reason=reason,
        confirmed=True,
        context=RequestContext.command("bookings purge-deleted"),
        notify_client=False,
        now=now,
    )
    report(command, result)
