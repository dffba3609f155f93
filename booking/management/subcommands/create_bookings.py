"""bookings create-bookings --business-slug SLUG [--count N] [--seed S] [--dry-run]"""

from booking import demo
from booking.management.subcommands.common import DemoDataSubcommand

_subcommand = DemoDataSubcommand(
    "bookings",
    default_count=50,
    create=demo.create_bookings,
    help="Create demo bookings with mixed statuses on the business's sessions.",
)
help, add_arguments, handle = _subcommand.help, _subcommand.add_arguments, _subcommand.handle
