"""The pure rules of the booking life cycle, as tables. No database: the bookings are unsaved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.models import BookingRequest, BookingSettings, BookingStatus, Business, Session
from booking.services import exceptions as exc
from booking.services import rules
from tests.factories import make_booking, make_session

P, A, R, C, AT, NS = (
    BookingStatus.PENDING,
    BookingStatus.APPROVED,
    BookingStatus.REJECTED,
    BookingStatus.CANCELLED,
    BookingStatus.ATTENDED,
    BookingStatus.NO_SHOW,
)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def unsaved_booking(
    *,
    status: str = P,
    is_deleted: bool = False,
    starts_at: datetime = NOW + timedelta(days=7),
    timezone_name: str = "UTC",
    **policy: object,
) -> BookingRequest:
    business = Business(name="Studio", slug="studio", timezone=timezone_name)
    business.booking_settings = BookingSettings(business=business, **policy)
    session = Session(
        business=business, title="Spin", starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
    )
    return BookingRequest(session=session, status=status, is_deleted=is_deleted)


def error_of(refusal: rules.Refusal | None) -> type[exc.BookingError] | None:
    return refusal.error if refusal else None


# (current status, target) -> None when allowed, else the refusal's message.
STATUS_CHANGES = [
    (P, A, None),
    (P, R, None),
    (P, C, None),
    (A, C, None),
    (A, A, "already approved"),
    (A, R, "cannot go from approved to rejected"),
    (R, A, "cannot go from rejected to approved"),
    (R, R, "already rejected"),
    (R, C, "cannot go from rejected to cancelled"),
    (C, A, "cannot go from cancelled to approved"),
    (C, R, "cannot go from cancelled to rejected"),
    (C, C, "already cancelled"),
    (A, AT, None),
    (A, NS, None),
    (P, AT, "cannot go from pending to attended"),
    (P, NS, "cannot go from pending to no-show"),
    (C, NS, "cannot go from cancelled to no-show"),
    (AT, NS, "cannot go from attended to no-show"),
    (NS, AT, "cannot go from no-show to attended"),
    (AT, C, "cannot go from attended to cancelled"),
    (NS, C, "cannot go from no-show to cancelled"),
    (AT, AT, "already marked attended"),
    (NS, NS, "already marked as a no-show"),
]


@pytest.mark.parametrize(("status", "target", "message"), STATUS_CHANGES)
def test_status_transitions(status, target, message):
    refusal = rules.check_status_change(unsaved_booking(status=status), target)

    if message is None:
        assert refusal is None
    else:
        assert refusal == rules.Refusal(message, exc.InvalidTransition)


@pytest.mark.parametrize(("status", "target"), [(s, t) for s, t, _ in STATUS_CHANGES])
def test_soft_deleted_booking_cannot_change_status(status, target):
    refusal = rules.check_status_change(unsaved_booking(status=status, is_deleted=True), target)

    assert refusal == rules.DELETED
    assert refusal.error is exc.InvalidTransition


# (session starts this long after now) -> refusal message or None
ATTENDANCE_TIMES = [
    (timedelta(hours=1), "the session has not started yet"),
    (ONE_MICROSECOND, "the session has not started yet"),
    (timedelta(0), None),  # it starts now: it has started
    (-timedelta(hours=2), None),
]


@pytest.mark.parametrize("target", [AT, NS])
@pytest.mark.parametrize(("starts_after_now", "message"), ATTENDANCE_TIMES)
def test_attendance_only_once_the_session_has_started(target, starts_after_now, message):
    booking = unsaved_booking(status=A, starts_at=NOW + starts_after_now)

    refusal = rules.check_attendance(booking, target, now=NOW)

    assert refusal == (rules.Refusal(message, exc.InvalidTransition) if message else None)


@pytest.mark.parametrize("target", [AT, NS])
def test_attendance_needs_an_approved_live_booking(target):
    past = NOW - timedelta(hours=1)

    assert rules.check_attendance(unsaved_booking(status=P, starts_at=past), target, now=NOW)
    deleted = unsaved_booking(status=A, starts_at=past, is_deleted=True)
    assert rules.check_attendance(deleted, target, now=NOW) == rules.DELETED


# (allow_admin_deletion, require_deletion_reason, reason, is_deleted) -> error or None
SOFT_DELETES = [
    (True, True, "duplicate", False, None),
    (True, True, "", False, exc.ReasonRequired),
    (True, False, "", False, None),
    (False, True, "duplicate", False, exc.PolicyForbids),
    (False, False, "", False, exc.PolicyForbids),
    # A missing required reason is bad input, reported before the policy.
    (False, True, "", False, exc.ReasonRequired),
    (True, True, "again", True, exc.InvalidTransition),
]


@pytest.mark.parametrize(("allow", "require", "reason", "is_deleted", "error"), SOFT_DELETES)
def test_soft_delete_policy(allow, require, reason, is_deleted, error):
    booking = unsaved_booking(
        is_deleted=is_deleted, allow_admin_deletion=allow, require_deletion_reason=require
    )

    assert error_of(rules.check_soft_delete(booking, reason=reason)) is error


@pytest.mark.parametrize("status", [P, A, R, C])
def test_soft_delete_is_orthogonal_to_status(status):
    assert rules.check_soft_delete(unsaved_booking(status=status), reason="tidy up") is None


@pytest.mark.parametrize(("is_deleted", "error"), [(True, None), (False, exc.InvalidTransition)])
def test_restore_needs_a_deleted_booking(is_deleted, error):
    assert error_of(rules.check_restore(unsaved_booking(is_deleted=is_deleted))) is error


# (allow_admin_deletion, require_deletion_reason, reason) -> error or None
PURGES = [
    (True, True, "GDPR request", None),
    (True, True, "", exc.ReasonRequired),
    (True, False, "", None),
    (False, True, "GDPR request", exc.PolicyForbids),
    (False, True, "", exc.ReasonRequired),
    (False, False, "", exc.PolicyForbids),
]


@pytest.mark.parametrize(("allow", "require", "reason", "error"), PURGES)
def test_purge_policy(allow, require, reason, error):
    booking = unsaved_booking(allow_admin_deletion=allow, require_deletion_reason=require)

    assert error_of(rules.check_purge(booking, reason=reason)) is error


@pytest.mark.parametrize("is_deleted", [False, True])
@pytest.mark.parametrize("status", [P, A, R, C])
def test_purge_applies_to_any_status_and_deletion_state(status, is_deleted):
    booking = unsaved_booking(status=status, is_deleted=is_deleted)

    assert rules.check_purge(booking, reason="retention") is None


# (allow_client_cancellation, status, is_deleted) -> error or None, well before the deadline
CLIENT_CANCELS = [
    (True, P, False, None),
    (True, A, False, None),
    (True, R, False, exc.InvalidTransition),
    (True, C, False, exc.InvalidTransition),
    (True, P, True, exc.BookingNotFound),
    (False, P, False, exc.PolicyForbids),
    (False, A, False, exc.PolicyForbids),
]


@pytest.mark.parametrize(("allow", "status", "is_deleted", "error"), CLIENT_CANCELS)
def test_client_cancellation_policy_and_status(allow, status, is_deleted, error):
    booking = unsaved_booking(status=status, is_deleted=is_deleted, allow_client_cancellation=allow)

    assert error_of(rules.check_client_cancel(booking, now=NOW)) is error


@pytest.mark.parametrize(
    ("hours", "now_after_deadline", "error"),
    [
        (24, -timedelta(days=1), None),
        (24, timedelta(0), None),  # now == deadline: still allowed
        (24, ONE_MICROSECOND, exc.DeadlinePassed),
        (24, timedelta(hours=24), exc.DeadlinePassed),  # the session has started
        (0, timedelta(0), None),  # no deadline: until the very start
        (0, ONE_MICROSECOND, exc.DeadlinePassed),
        (48, timedelta(0), None),
        (48, ONE_MICROSECOND, exc.DeadlinePassed),
    ],
)
def test_client_deadline_boundary(hours, now_after_deadline, error):
    starts_at = NOW + timedelta(days=10)
    booking = unsaved_booking(starts_at=starts_at, cancellation_deadline_hours=hours)
    deadline = starts_at - timedelta(hours=hours)

    assert rules.cancellation_deadline(booking) == deadline
    assert error_of(rules.check_client_cancel(booking, now=deadline + now_after_deadline)) is error


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("session_local", "deadline_local"),
    [
        # Clocks go forward (CET -> CEST) at 02:00 on 29 March 2026: 24 elapsed hours
        # before noon on the 29th is 11:00 on the 28th by the wall clock, not noon.
        (datetime(2026, 3, 29, 12, 0), datetime(2026, 3, 28, 11, 0)),
        # Clocks go back (CEST -> CET) at 03:00 on 25 October 2026: 13:00 the day before.
        (datetime(2026, 10, 25, 12, 0), datetime(2026, 10, 24, 13, 0)),
    ],
)
def test_deadline_hours_are_elapsed_time_across_daylight_saving(session_local, deadline_local):
    starts_at = session_local.replace(tzinfo=BERLIN)
    deadline = deadline_local.replace(tzinfo=BERLIN)
    booking = unsaved_booking(
        starts_at=starts_at, timezone_name="Europe/Berlin", cancellation_deadline_hours=24
    )

    # Aware datetimes of one zone subtract by the wall clock: compare in UTC.
    assert starts_at.astimezone(UTC) - deadline.astimezone(UTC) == timedelta(hours=24)
    assert rules.cancellation_deadline(booking) == deadline
    assert rules.check_client_cancel(booking, now=deadline) is None
    assert error_of(rules.check_client_cancel(booking, now=deadline + ONE_MICROSECOND)) is (
        exc.DeadlinePassed
    )


def test_the_wall_clock_day_before_is_not_the_deadline_in_spring():
    starts_at = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)
    booking = unsaved_booking(
        starts_at=starts_at, timezone_name="Europe/Berlin", cancellation_deadline_hours=24
    )
    same_time_the_day_before = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # only 23 hours before

    refusal = rules.check_client_cancel(booking, now=same_time_the_day_before)

    assert refusal == rules.Refusal("the cancellation deadline has passed", exc.DeadlinePassed)


@pytest.mark.parametrize(
    ("status", "starts_in", "expected"),
    [
        (P, timedelta(hours=1), True),
        (A, timedelta(days=3), True),
        (A, -timedelta(hours=1), False),
        (A, timedelta(0), False),
        (R, timedelta(days=3), False),
        (C, timedelta(days=3), False),
    ],
)
def test_is_active_future(status, starts_in, expected):
    booking = unsaved_booking(status=status, starts_at=NOW + starts_in)

    assert rules.is_active_future(booking, now=NOW) is expected


def test_cancellation_deadline_is_the_start_less_the_policy_hours(business):
    business.booking_settings.cancellation_deadline_hours = 6
    business.booking_settings.save()
    session = make_session(business=business)
    booking = make_booking(session=session)

    assert rules.cancellation_deadline(booking) == session.starts_at - timedelta(hours=6)
