"""The README's `requests` example runs as written against a live server, on a booking
it made with `create-bookings` (never a demo booking), and its login says so when it fails."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from booking.models import BookingRequest
from tests.factories import make_business, make_session, make_staff

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(after: str, language: str) -> str:
    text = README.read_text()
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```", start)]


@pytest.fixture
def demo_like(transactional_db):
    business = make_business(slug="johnny-bravo-fitness-center", name="Johnny Bravo")
    make_session(business=business)
    desk = make_staff(username="desk", password="desk-demo-2026", businesses=(business,))
    return business, desk


def test_the_readme_api_example_works_on_the_booking_it_made(live_server, demo_like):
    shell = readme_block("Session authentication with CSRF", "sh")
    args = shell.split("manage.py ", 1)[1].split("\n", 1)[0].split()
    out = StringIO()
    call_command(*args, stdout=out)
    booking_id = int(re.search(r"id (\d+):", out.getvalue()).group(1))
    before = set(BookingRequest.all_objects.values_list("pk", flat=True))

    script = readme_block("A script then logs in", "python")
    script = script.replace('BASE = "http://127.0.0.1:8000"', f'BASE = "{live_server.url}"')
    script = re.sub(r"BOOKING_ID = \d+", f"BOOKING_ID = {booking_id}", script)
    exec(compile(script, "README.md", "exec"), {})

    assert set(BookingRequest.all_objects.values_list("pk", flat=True)) == before - {booking_id}


def test_the_readme_login_fails_loudly_with_a_wrong_password(live_server, demo_like):
    script = readme_block("A script then logs in", "python")
    script = script.replace('BASE = "http://127.0.0.1:8000"', f'BASE = "{live_server.url}"')
    script = script.replace('"desk-demo-2026"', '"wrong"')
    with pytest.raises(AssertionError, match="wrong username or password"):
        exec(compile(script, "README.md", "exec"), {})
