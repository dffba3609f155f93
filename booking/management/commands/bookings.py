"""`python manage.py bookings <subcommand>`: the operators' tool.

Each subcommand is a small module in `booking.management.subcommands` with
`help`, `add_arguments(parser)` and `handle(command, **options)`; this command
only dispatches. Subcommands that change data go through the service layer and
take `--dry-run`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking.services.exceptions import BookingError

SUBCOMMANDS = {
    "create-sessions": "create_sessions",
    "create-bookings": "create_bookings",
    "show": "show",
    "clean": "clean",
    "purge-deleted": "purge_deleted",
    "erase": "erase",
    "cancel-session": "cancel_session",
    "expire-offers": "expire_offers",
}


def _module(name: str) -> Any:
    return import_module(f"booking.management.subcommands.{SUBCOMMANDS[name]}")


class Command(BaseCommand):
    help = (
        "Manage bookings: demo data, cleanup, retention, erasure, session cancellation "
        "and waitlist expiry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name in SUBCOMMANDS:
            module = _module(name)
            sub = subparsers.add_parser(name, help=module.help, description=module.help)
            # Subparsers made by argparse lack Django's own error handling.
            sub.called_from_command_line = getattr(parser, "called_from_command_line", None)
            module.add_arguments(sub)

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            _module(subcommand).handle(self, **options)
        except BookingError as error:
            raise CommandError(error.message) from error
