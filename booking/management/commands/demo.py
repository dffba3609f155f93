"""`python manage.py demo`: the demo that `make run` serves.

Loads the demo business (fixtures/demo.json) when it is missing, gives it
sessions and bookings relative to now when it has none, and ensures a demo
superuser. Safe to run again: it only adds what is missing.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking import demo
from booking.models import Business

DEMO_SLUG = "johnny-bravo-fitness-center"
FIXTURE = settings.BASE_DIR / "fixtures" / "demo.json"


class Command(BaseCommand):
    help = "Load the demo business, its sessions and bookings, and a demo admin login."

    def add_arguments(self, parser: CommandParser) -> None:
        # About a week and a half of the timetable, some five clients a class.
        parser.add_argument("--sessions", type=int, default=56)
        parser.add_argument("--bookings", type=int, default=280)

    def handle(self, *args: Any, sessions: int, bookings: int, **options: Any) -> None:
        if not settings.DEBUG and not os.environ.get("DEMO_ALLOW_PRODUCTION"):
            raise CommandError("The demo creates a known login: run it with DEBUG=1 only.")
        if not Business.objects.filter(slug=DEMO_SLUG).exists():
            call_command("loaddata", str(FIXTURE), verbosity=0)
            self.stdout.write(f"Loaded the demo business from {FIXTURE.name}.")
        business = Business.objects.get(slug=DEMO_SLUG)
        if not business.sessions.exists():
            demo.create_sessions(business, count=sessions, seed=2026)
            demo.create_bookings(business, count=bookings, seed=2026)
            examples = demo.create_fee_examples(business)
            self.stdout.write(
                f"Created {sessions} sessions and {bookings} bookings, and a past class "
                f"whose {len(examples)} bookings show late-cancellation and no-show fees."
            )

        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo logins at {settings.SITE_URL}/admin/\n"
                "  superuser:  admin / admin\n"
                "  staff:      desk / desk-demo-2026 (Johnny Bravo Fitness Center only)\n"
            )
        )
        sample = business.sessions.order_by("-starts_at").first()
        booking = sample.bookings.active().first() if sample else None
        if booking:
            self.stdout.write(
                f"A client's cancel page: {settings.SITE_URL}/booking/cancel/{booking.reference}/"
                f"  (email: {booking.client_email})\n"
            )
