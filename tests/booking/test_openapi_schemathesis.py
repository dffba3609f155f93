"""/api/openapi.json is kept true: schemathesis fuzzes the live application against it.

Requests go through the project's real WSGI application (middleware, CSRF and
session authentication included) as a logged-in staff member holding a CSRF
token, with bookings in every state in two businesses. Any server error, or any
response the document does not describe (status, content type, body schema),
fails the test.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.http import HttpRequest
from django.middleware.csrf import get_token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from booking.models import BookingStatus
from tests.factories import make_booking, make_business, make_session, make_staff

# Bounded so that the suite stays fast; raise it locally to fuzz harder.
MAX_EXAMPLES = 40


# Loaded through the application itself, as a client would. (Module level rather
# than `schemathesis.pytest.from_fixture`: the lazy loader of schemathesis 4.32
# uses a pytest attribute that pytest 9 removed.)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def fuzz_world(db):
    """A staff member of three businesses (reason required, not required, deletion
    forbidden) with bookings in every state in each, and another business's booking."""
    business = make_business(slug="fuzz-fitness")
    relaxed = make_business(slug="fuzz-relaxed", require_deletion_reason=False)
    locked = make_business(slug="fuzz-locked", allow_admin_deletion=False)
    other = make_business(slug="fuzz-other")
    staff = make_staff(username="fuzzer", businesses=(business, relaxed, locked))
    bookings = [
        make_booking(session=make_session(business=place), status=status, is_deleted=deleted)
        for place in (business, relaxed, locked)
        for status in BookingStatus.values
        for deleted in (False, True)
    ]
    foreign = make_booking(session=make_session(business=other))
    return staff, bookings, foreign


# The credentials of the current test's staff browser, set by the `staff_login` fixture.
_browser: dict[str, dict[str, str]] = {}


@schema.auth(refresh_interval=None)
class StaffBrowser:
    """Schemathesis applies this as the document's security schemes (cookie and CSRF header),
    so it knows the credentials are real and probes the API without and with bad ones."""

    def get(self, case, context):
        return _browser or None  # None while collecting: no one is logged in yet

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


@pytest.fixture
def in_test_transaction():
    """The application answers in the test's thread, inside its transaction.

    Django closes the database connection at the end of each request; that would
    end the test's transaction (on PostgreSQL). Django's own test client switches
    this off around its requests in the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_login(client, fuzz_world):
    """What a logged-in staff browser holds: a session cookie and a CSRF cookie + token."""
    staff, _, _ = fuzz_world
    client.force_login(staff)
    request = HttpRequest()
    token = get_token(request)
    _browser["cookies"] = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"],
    }
    _browser["headers"] = {"X-CSRFToken": token}
    yield
    _browser.clear()


def aim_at_real_bookings(case, bookings, foreign) -> None:
    """Point generated ids at existing bookings (and at another business's, and at none).

    Only ids that the document allows are remapped, so negative cases stay negative.
    A DELETE whose `confirm` has an even length confirms with the real reference,
    so that purges succeed as well as fail.
    """
    reference = (case.path_parameters or {}).get("reference")
    if isinstance(reference, str) and len(reference) % 2 == 0:
        # Half the public calls name a real booking (of either business).
        pool = [*bookings, foreign]
        case.path_parameters["reference"] = pool[len(reference) % len(pool)].reference
    booking_id = (case.path_parameters or {}).get("booking_id")
    if not isinstance(booking_id, int) or isinstance(booking_id, bool) or booking_id < 1:
        return
    pool = [*bookings, foreign, None]
    target = pool[booking_id % len(pool)]
    case.path_parameters["booking_id"] = target.pk if target else 10**9
    if target is None or case.method.upper() != "DELETE":
        return
    for holder in (case.query, case.body):
        confirm = holder.get("confirm") if isinstance(holder, dict) else None
        if isinstance(confirm, str) and len(confirm) % 2 == 0:
            holder["confirm"] = target.reference


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
def test_api_conforms_to_its_openapi_document(case, in_test_transaction, staff_login, fuzz_world):
    _, bookings, foreign = fuzz_world
    aim_at_real_bookings(case, bookings, foreign)
    case.call_and_validate(
        # Valid-looking input is refused (400) when it breaks a rule the document
        # cannot express: a business that requires a reason, a confirmation that
        # is not the booking's reference. Those refusals are tested one by one in
        # test_api_staff.py; every other check runs.
        excluded_checks=[positive_data_acceptance],
    )
    # Whatever was sent, no staff call touched another business's booking (a client
    # holding its contact details may cancel it through the public API).
    foreign.refresh_from_db()
    assert foreign.is_deleted is False
    if "/client/" not in case.path:
        assert foreign.status == BookingStatus.PENDING
