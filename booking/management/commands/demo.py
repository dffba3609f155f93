"""`python manage.py demo`: the demo that `make run` serves.

Loads the demo business (fixtures/demo.json) when it is missing, gives it
sessions and bookings relative to now when it has none, a full class with a
waitlist when it has none, and ensures a demo superuser. Safe to run again: it
only adds what is missing. It ends with links to try: a client's cancel page,
and the waitlist's flow.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from booking import demo, demo_waitlist
from booking.models import Business
from booking.services import links
from booking.waitlist.models import WaitlistEntry

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

        if not business.sessions.filter(title=demo_waitlist.FULL_CLASS).exists():
            demo_waitlist.create_waitlist_examples(business)
            self.stdout.write(
                f"Created a full class ({demo_waitlist.FULL_CLASS}) with a waitlist and an open "
                f"offer, and a past one whose waitlist filled two freed spots."
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
        self._waitlist_links(business)

    def _waitlist_links(self, business: Business) -> None:
        """How to try the waitlist: cancel in the full class, or answer the open offer."""
        full = business.sessions.filter(title=demo_waitlist.FULL_CLASS).first()
        booking = full.bookings.active().order_by("pk").first() if full else None
        if full and booking:
            self.stdout.write(
                f"The waitlist: {full.title} is full. Cancel {booking.reference} at "
                f"{settings.SITE_URL}/booking/cancel/{booking.reference}/  (email: "
                f"{booking.client_email}): the next waiting client is offered the spot at "
                "once, and the worker prints the offer email, with its claim link, here.\n"
            )
        offer = WaitlistEntry.objects.filter(session__business=business).holding(now=timezone.now())
        if entry := offer.order_by("offered_at").first():
            self.stdout.write(
                f"An open waitlist offer to claim or pass on: {links.claim_url(entry)}\n"
            )
