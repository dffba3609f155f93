"""bookings erase (--email E | --phone P) [--reason R] [--dry-run]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from booking.audit import RequestContext
from booking.services.erasure import DEFAULT_REASON, erase_client_data

help = (
    "Erase a client's personal data (name, email, phone, mentions in reasons) from their "
    "bookings, every historical record, their emails (queued ones are never sent) and the "
    "admin's log; delete export files that hold them. The audit trail's facts stay."
)


def add_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", default="", help="The client's email address.")
    who.add_argument("--phone", default="", help="The client's phone number (any spelling).")
    parser.add_argument("--reason", default=DEFAULT_REASON, help="Recorded in the audit trail.")
    parser.add_argument("--dry-run", action="store_true", help="Show what would be erased.")


def handle(
    command: BaseCommand, *, email: str, phone: str, reason: str, dry_run: bool, **_: Any
) -> None:
    result = erase_client_data(
        email=email,
        phone=phone,
        actor=None,
        reason=reason,
        context=RequestContext.command("bookings erase"),
        dry_run=dry_run,
    )
    if not result.booking_ids and not any(result.changed.values()):
        command.stdout.write(command.style.WARNING("No bookings of that client were found."))
        return
    style = command.style.NOTICE if dry_run else command.style.SUCCESS
    command.stdout.write(style(result.summary() + (" Nothing was changed." if dry_run else "")))
