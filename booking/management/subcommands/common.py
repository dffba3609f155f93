"""Helpers shared by the `bookings` subcommands."""

from __future__ import annotations

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
