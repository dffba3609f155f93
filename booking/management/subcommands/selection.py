"""Shared by the data-changing subcommands: dry-run previews and result reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.core.management.base import BaseCommand

from booking.models import BookingQuerySet, BookingRequest
from booking.services import BulkResult
from booking.services.rules import Refusal


def preview(
    command: BaseCommand,
    bookings: BookingQuerySet,
    check: Callable[[BookingRequest], Refusal | None],
    verb: str,
) -> None:
    """What a service call would do, from the same rules it checks under the lock."""
    would, skipped = 0, Counter[str]()
    for booking in bookings.with_related().order_by("pk").iterator(chunk_size=1000):
        refusal = check(booking)
        if refusal is None:
            would += 1
        else:
            skipped[refusal.message] += 1
    text = f"Dry run: would {verb} {would} bookings"
    if skipped:
        reasons = ", ".join(f"{n} {message}" for message, n in skipped.most_common())
        text += f"; would skip {sum(skipped.values())}: {reasons}"
    command.stdout.write(text + ". Nothing was changed.")


def report(command: BaseCommand, result: BulkResult) -> None:
    style = command.style.SUCCESS if result.done else command.style.WARNING
    command.stdout.write(style(result.summary() + "."))
