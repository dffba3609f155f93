"""bookings create-sessions --business-slug SLUG [--count N] [--seed S] [--dry-run]"""

from booking import demo
from booking.management.subcommands.common import DemoDataSubcommand

_subcommand = DemoDataSubcommand(
    "sessions",
    default_count=20,
    create=demo.create_sessions,
    help="Create demo sessions relative to now (past, inside the deadline, far ahead).",
)
help, add_arguments, handle = _subcommand.help, _subcommand.add_arguments, _subcommand.handle
