"""bookings show [--business SLUG] [--include-deleted] [--limit N]"""

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from booking import clock
from booking.management.subcommands.common import business_by_slug
from booking.models import BookingRequest

help = "List bookings (newest first) with a count per business and status."


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--business", metavar="SLUG", help="Only this business's bookings.")
    parser.add_argument(
        "--include-deleted", action="store_true", help="Include soft-deleted bookings."
    )
    parser.add_argument(
        "--limit", type=int, default=50, help="Bookings to list (default 50; 0 lists all)."
    )


def handle(
    command: BaseCommand,
    *,
    business: str | None,
    include_deleted: bool,
    limit: int,
    **_: Any,
) -> None:
    bookings = BookingRequest.all_objects.all() if include_deleted else BookingRequest.objects.all()
    if business:
        bookings = bookings.filter(session__business=business_by_slug(business))
    counts = Counter(
        {
            (row["session__business__name"], row["status"], row["is_deleted"]): row["n"]
            for row in bookings.order_by()
            .values("session__business__name", "status", "is_deleted")
            .annotate(n=Count("pk"))
        }
    )
    total = sum(counts.values())
    command.stdout.write(
        f"{total} bookings" + (" (soft-deleted included)" if include_deleted else "")
    )
    for (name, status, deleted), n in sorted(counts.items()):
        command.stdout.write(f"  {name}: {n} {status}{' (deleted)' if deleted else ''}")
    listed = bookings.order_by("-created_at", "-pk").values_list(
        "reference",
        "session__business__slug",
        "session__title",
        "session__starts_at",
        "client_name",
        "client_email",
        "status",
        "is_deleted",
    )
    if limit > 0:
        listed = listed[:limit]
    if total:
        command.stdout.write("")
        command.stdout.write(
            f"{'REFERENCE':<9} {'BUSINESS':<24} {'SESSION':<36} {'CLIENT':<40} STATUS"
        )
    for ref, slug, title, starts_at, name, email, status, deleted in listed.iterator():
        local = clock.localtime(starts_at)
        session = f"{title[:18]} {local:%Y-%m-%d %H:%M}"
        client = f"{name[:18]} <{email[:18]}>"
        flag = " (deleted)" if deleted else ""
        command.stdout.write(f"{ref:<9} {slug[:24]:<24} {session:<36} {client:<40} {status}{flag}")
    if limit > 0 and total > limit:
        command.stdout.write(f"… and {total - limit} more (--limit 0 lists all).")
