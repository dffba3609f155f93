"""bookings clean (--emails E ... | --all --yes) [--hard] [--reason R] [--dry-run]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from booking import services
from booking.audit import RequestContext
from booking.management.subcommands.selection import preview, report
from booking.models import BookingRequest
from booking.services import rules

help = (
    "Remove test data: soft-delete (or with --hard purge) the bookings of the given "
    "client emails, or all bookings with --all --yes. Clients are not emailed."
)
DEFAULT_REASON = "Test data cleanup"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--emails", nargs="+", metavar="E", default=[], help="Client emails.")
    parser.add_argument("--all", action="store_true", help="Every booking of every business.")
    parser.add_argument("--yes", action="store_true", help="Confirm --all.")
    parser.add_argument(
        "--hard", action="store_true", help="Purge permanently instead of soft-deleting."
    )
    parser.add_argument("--reason", default=DEFAULT_REASON, help="Recorded in the audit trail.")
    parser.add_argument("--dry-run", action="store_true", help="Show what would happen.")


def handle(
    command: BaseCommand,
    *,
    emails: list[str],
    all: bool,
    yes: bool,
    hard: bool,
    reason: str,
    dry_run: bool,
    **_: Any,
) -> None:
    if all == bool(emails):
        raise CommandError("Give either --emails E ... or --all.")
    if all and not yes and not dry_run:
        raise CommandError(
            "--all removes every booking of every business: add --yes to confirm "
            "(or --dry-run to see what it would do)."
        )
    bookings = BookingRequest.all_objects.all()
    if emails:
        bookings = bookings.with_emails(email.strip() for email in emails)
    reason = services.clean_reason(reason)
    context = RequestContext.command("bookings clean")
    if hard:
        if dry_run:
            return preview(
                command, bookings, lambda b: rules.check_purge(b, reason=reason), "purge"
            )
        result = services.purge_bookings(
            bookings,
            actor=None,
            reason=reason,
            confirmed=True,
            context=context,
            notify_client=False,
            now=timezone.now(),
        )
    else:
        live = bookings.live()
        if dry_run:
            check = lambda b: rules.check_soft_delete(b, reason=reason)  # noqa: E731
            return preview(command, live, check, "soft-delete")
        result = services.soft_delete_bookings(
            live, actor=None, reason=reason, context=context, notify_client=False
        )
    report(command, result)
