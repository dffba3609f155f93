"""Helpers shared by the `bookings` subcommands."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from booking.models import Business


def business_by_slug(slug: str) -> Business:
    try:
        return Business.objects.select_related("booking_settings").get(slug=slug)
    except Business.DoesNotExist:
        known = ", ".join(Business.objects.values_list("slug", flat=True)[:10]) or "none yet"
        raise CommandError(f"No business with slug {slug!r} (known: {known}).") from None


def positive_int(value: str) -> int:
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


SHOWN_ROWS = 10


class DemoDataSubcommand:
    """`create-sessions` / `create-bookings`: one shape, two kinds of demo rows."""

    def __init__(self, noun: str, *, default_count: int, create: Any, help: str) -> None:
        self.noun, self.default_count, self.create, self.help = noun, default_count, create, help

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--business-slug", required=True)
        parser.add_argument("--count", type=positive_int, default=self.default_count)
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatable data."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would be created.")

    def handle(
        self,
        command: Any,
        *,
        business_slug: str,
        count: int,
        seed: int | None,
        dry_run: bool,
        **_: Any,
    ) -> None:
        business = business_by_slug(business_slug)
        if dry_run:
            command.stdout.write(f"Would create {count} {self.noun} for {business}.")
            return
        sessions = business.sessions.count()
        created = self.create(business, count=count, seed=seed)
        command.stdout.write(
            command.style.SUCCESS(f"Created {len(created)} {self.noun} for {business}.")
        )
        added = business.sessions.count() - sessions
        if self.noun != "sessions" and added:
            command.stdout.write(
                f"  and {added} sessions to seat them: no session takes bookings beyond its "
                f"capacity, and the business's scheduled sessions had too few free seats."
            )
        if len(created) <= SHOWN_ROWS:  # a few rows, e.g. one to try the API on
            for row in created:
                command.stdout.write(f"  id {row.pk}: {row}")
