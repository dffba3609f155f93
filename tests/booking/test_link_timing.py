""" "Email me a cancellation link" has no timing oracle: matching and non-matching details
cost the request the same work (the email is rendered, written and sent by the worker)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from booking.emails.models import OutboxEmail
from tests.booking.outbox_support import anymail_backend, run_email_tasks, sent_messages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(anymail_backend.__name__)]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def ask(client, booking, email: str):
    return client.post(f"/booking/cancel/{booking.reference}/link/", {"link-client_email": email})


def shape(sql: str) -> str:
    """A statement without its values: what the database is asked to do, not with what."""
    return re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", sql)


def test_matching_and_other_details_run_the_same_statements(client, booking):
    with CaptureQueriesContext(connection) as matched:
        first = ask(client, booking, booking.client_email)
    with CaptureQueriesContext(connection) as other:
        second = ask(client, booking, "someone.else@example.com")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert [shape(q["sql"]) for q in matched] == [shape(q["sql"]) for q in other]
    # Nothing is rendered or written for the email in either request.
    assert not OutboxEmail.objects.exists()
    assert DBTaskResult.objects.count() == 2


def test_the_worker_sends_the_link_for_matching_details_only(client, booking):
    ask(client, booking, "someone.else@example.com")
    ask(client, booking, booking.client_email.upper())
    while run_email_tasks():
        pass
    messages = sent_messages()
    assert [m.to for m in messages] == [[booking.client_email]]
    assert "?token=" in messages[0].body
    assert OutboxEmail.objects.count() == 1


def test_the_worker_sends_nothing_once_the_booking_can_no_longer_be_cancelled(client, booking):
    ask(client, booking, booking.client_email)
    booking.is_deleted = True
    booking.save()
    while run_email_tasks():
        pass
    assert sent_messages() == []
