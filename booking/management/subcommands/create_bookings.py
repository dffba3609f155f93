"""bookings create-bookings --business-slug SLUG [--count N]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from booking import demo
from booking.management.subcommands.common import business_by_slug, positive_int

help = "Create demo bookings with mixed statuses on the business's sessions."


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--business-slug", required=True)
    parser.add_argument("--count", type=positive_int, default=50)
    parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")
    parser.add_argument("--dry-run", action="store_true", help="Show what would be created.")


def handle(
    command: BaseCommand,
    *,
    business_slug: str,
    count: int,
    seed: int | None,
    dry_run: bool,
    **_: Any,
) -> None:
    business = business_by_slug(business_slug)
    if dry_run:
        command.stdout.write(f"Would create {count} bookings for {business}.")
        return
    bookings = demo.create_bookings(business, count=count, seed=seed)
    command.stdout.write(command.style.SUCCESS(f"Created {len(bookings)} bookings for {business}."))
