"""bookings purge-deleted --older-than DAYS [--exports-older-than DAYS] [--reason R] [--dry-run]"""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from booking import services
from booking.audit import RequestContext
from booking.exports import retention
from booking.management.subcommands.common import positive_int
from booking.management.subcommands.selection import preview, report
from booking.models import BookingRequest
from booking.services import rules

help = (
    "Retention: permanently purge bookings soft-deleted more than DAYS days ago "
    "(the audit trail keeps their final record), and delete background export files "
    "older than EXPORT_RETENTION_DAYS days."
)


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS")
    parser.add_argument(
        "--exports-older-than",
        type=positive_int,
        default=None,
        metavar="DAYS",
        help="Delete export files asked for more than DAYS days ago "
        f"(default: the EXPORT_RETENTION_DAYS setting, {retention.DEFAULT_RETENTION_DAYS}).",
    )
    parser.add_argument("--reason", default="", help="Recorded in the audit trail.")
    parser.add_argument("--dry-run", action="store_true", help="Show what would be purged.")


def handle(
    command: BaseCommand,
    *,
    older_than: int,
    exports_older_than: int | None,
    reason: str,
    dry_run: bool,
    **_: Any,
) -> None:
    now = timezone.now()
    cutoff = now - timedelta(days=older_than)
    reason = services.clean_reason(
        reason or f"Retention: soft-deleted more than {older_than} days ago"
    )
    bookings = BookingRequest.all_objects.purgeable(older_than=cutoff)
    exports = retention.expired_jobs(now=now, days=exports_older_than)
    days = retention.retention_days() if exports_older_than is None else exports_older_than
    if dry_run:
        preview(command, bookings, lambda b: rules.check_purge(b, reason=reason), "purge")
        command.stdout.write(
            f"Dry run: would delete {exports.count()} export files older than {days} days."
        )
        return
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
    deleted = retention.delete_jobs(exports)
    command.stdout.write(f"Deleted {deleted} export files older than {days} days.")
