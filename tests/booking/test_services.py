"""The life-cycle services (SPEC §5) against the database: state, refusals, scope, queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from tests.factories import make_booking, make_business, make_session, make_staff

P, A, R, C = (
    BookingStatus.PENDING,
    BookingStatus.APPROVED,
    BookingStatus.REJECTED,
    BookingStatus.CANCELLED,
)
STATUS_ACTIONS = {
    "approve": (services.approve_bookings, A),
    "reject": (services.reject_bookings, R),
    "cancel": (services.cancel_bookings, C),
}
ALLOWED = {(P, A), (P, R), (P, C), (A, C)}


def refetch(booking: BookingRequest) -> BookingRequest:
    return BookingRequest.all_objects.get(pk=booking.pk)


# --- Transitions ------------------------------------------------------------------


@pytest.mark.parametrize("action", STATUS_ACTIONS)
@pytest.mark.parametrize("status", [P, A, R, C])
def test_status_actions_follow_the_transition_table(session, staff, status, action):
    function, target = STATUS_ACTIONS[action]
    booking = make_booking(session=session, status=status)

    result = function(booking, actor=staff, reason="desk")

    if (status, target) in ALLOWED:
        assert result.done == [booking] and not result.skipped
        assert refetch(booking).status == target
    else:
        assert result.done == [] and result.skipped[0].refusal.error is exc.InvalidTransition
        assert refetch(booking).status == status
        with pytest.raises(exc.InvalidTransition):
            result.raise_for_single()


@pytest.mark.parametrize("action", STATUS_ACTIONS)
def test_soft_deleted_booking_cannot_change_status_until_restored(session, staff, action):
    function, target = STATUS_ACTIONS[action]
    booking = make_booking(session=session, status=P, is_deleted=True)

    refused = function(booking, actor=staff)
    services.restore_bookings(booking, actor=staff)
    allowed = function(booking, actor=staff)

    assert refused.skipped[0].reason == "deleted; restore it first"
    assert allowed.raise_for_single().status == target
    assert refetch(booking).status == target


def test_cancel_records_who_when_and_why(session, staff):
    booking = make_booking(session=session, status=A)
    now = timezone.now()

    services.cancel_bookings(booking, actor=staff, reason="Instructor ill", now=now)

    booking = refetch(booking)
    assert (booking.status, booking.cancelled_at, booking.cancelled_by) == (C, now, staff)
    assert booking.cancellation_reason == "Instructor ill"
    assert booking.cancelled_by_client is False
    assert booking.updated_at == now


def test_soft_delete_records_and_restore_clears(session, staff):
    booking = make_booking(session=session, status=A)
    now = timezone.now()

    services.soft_delete_bookings(booking, actor=staff, reason="Duplicate", now=now)
    deleted = refetch(booking)
    hidden = not BookingRequest.objects.filter(pk=booking.pk).exists()
    services.restore_bookings(booking, actor=staff)
    restored = refetch(booking)

    assert (deleted.is_deleted, deleted.deleted_at, deleted.deleted_by) == (True, now, staff)
    assert deleted.deletion_reason == "Duplicate" and deleted.status == A
    assert hidden and BookingRequest.objects.filter(pk=booking.pk).exists()
    assert (restored.is_deleted, restored.deleted_at, restored.deleted_by) == (False, None, None)
    assert restored.deletion_reason == "" and restored.status == A


def test_restore_takes_an_optional_reason_even_where_deletion_needs_one(business, session, staff):
    assert business.booking_settings.require_deletion_reason is True
    silent = make_booking(session=session, is_deleted=True)
    explained = make_booking(session=session, is_deleted=True)

    services.restore_bookings(silent, actor=staff).raise_for_single()
    services.restore_bookings(explained, actor=staff, reason="Deleted by mistake")

    assert refetch(silent).is_deleted is False
    assert explained.history.latest().history_change_reason == "Deleted by mistake"


def test_restore_skips_a_live_booking(booking, staff):
    result = services.restore_bookings(booking, actor=staff)

    assert result.summary() == "0 restored; 1 skipped: not deleted"


# --- Policy switches ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "require", "reason", "error"),
    [
        (True, True, "", exc.ReasonRequired),
        (False, True, "", exc.ReasonRequired),  # bad input, before the policy
        (False, True, "Duplicate", exc.PolicyForbids),
        (False, False, "", exc.PolicyForbids),
        (True, False, "", None),
        (True, True, "Duplicate", None),
    ],
)
@pytest.mark.parametrize("action", ["soft_delete", "purge"])
def test_deletion_policy_switches(staff, action, allow, require, reason, error):
    business = make_business(
        staff=(staff,), allow_admin_deletion=allow, require_deletion_reason=require
    )
    booking = make_booking(session=make_session(business=business))
    options = {"confirmed": True} if action == "purge" else {}

    result = services.ACTIONS[action].service(booking, actor=staff, reason=reason, **options)

    if error is None:
        result.raise_for_single()
    else:
        with pytest.raises(error) as raised:
            result.raise_for_single()
        assert raised.value.status_code == (400 if error is exc.ReasonRequired else 403)
        assert refetch(booking).is_deleted is False


def test_purge_needs_permission_before_anything(session):
    clerk = make_staff(businesses=(session.business,), permissions=["soft_delete_bookingrequest"])
    booking = make_booking(session=session)

    with pytest.raises(exc.NotPermitted):
        services.purge_bookings(booking, actor=clerk, reason="x", confirmed=True)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_needs_an_explicit_confirmation(booking, staff):
    with pytest.raises(exc.ConfirmationRequired) as raised:
        services.purge_bookings(booking, actor=staff, reason="GDPR request")

    assert raised.value.status_code == 400
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_deletes_live_and_soft_deleted_bookings(session, staff):
    live = make_booking(session=session)
    deleted = make_booking(session=session, is_deleted=True)

    result = services.purge_bookings(
        BookingRequest.all_objects.filter(pk__in=[live.pk, deleted.pk]),
        actor=staff,
        reason="Retention",
        confirmed=True,
    )

    assert result.summary() == "2 purged"
    assert not BookingRequest.all_objects.filter(pk__in=[live.pk, deleted.pk]).exists()


# --- Permissions and actors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "codename"),
    [
        ("approve", "change_bookingrequest"),
        ("reject", "change_bookingrequest"),
        ("cancel", "cancel_bookingrequest"),
        ("soft_delete", "soft_delete_bookingrequest"),
        ("restore", "restore_bookingrequest"),
        ("purge", "purge_bookingrequest"),
    ],
)
def test_each_action_needs_its_permission(session, action, codename):
    others = [
        c for c in (a.permission for a in services.ACTIONS.values()) if not c.endswith(codename)
    ]
    without = make_staff(
        businesses=(session.business,), permissions=[c.split(".")[1] for c in others]
    )
    holder = make_staff(businesses=(session.business,), permissions=[codename])
    booking = make_booking(session=session, is_deleted=action == "restore")
    options = {"reason": "tidy", **({"confirmed": True} if action == "purge" else {})}

    with pytest.raises(exc.NotPermitted):
        services.ACTIONS[action].service(booking, actor=without, **options)
    services.ACTIONS[action].service(booking, actor=holder, **options).raise_for_single()


@pytest.mark.parametrize("action", ["approve", "reject", "cancel", "soft_delete", "restore"])
def test_an_anonymous_actor_is_refused_not_taken_for_the_system(booking, action):
    with pytest.raises(exc.NotPermitted):
        services.ACTIONS[action].service(booking, actor=AnonymousUser(), reason="x")
    assert refetch(booking).status == P and refetch(booking).is_deleted is False


def test_the_system_actor_needs_no_permission_and_is_recorded_as_nobody(booking):
    services.cancel_bookings(booking, actor=None, reason="Retention job")

    assert refetch(booking).cancelled_by is None
    assert booking.history.latest().history_user is None


# --- Reasons --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "reject", "cancel", "soft_delete", "restore"])
def test_a_reason_of_1000_characters_is_kept_whole(session, staff, action):
    booking = make_booking(session=session, is_deleted=action == "restore")
    reason = "x" * 999 + "y"

    services.ACTIONS[action].service(booking, actor=staff, reason=reason).raise_for_single()

    assert booking.history.latest().history_change_reason == reason


@pytest.mark.parametrize("action", services.ACTIONS)
def test_a_reason_of_1001_characters_is_refused_not_truncated(session, staff, action):
    booking = make_booking(session=session, is_deleted=action == "restore")
    options = {"confirmed": True} if action == "purge" else {}

    with pytest.raises(exc.ReasonTooLong) as raised:
        services.ACTIONS[action].service(booking, actor=staff, reason="x" * 1001, **options)

    assert raised.value.status_code == 400
    assert refetch(booking).status == P
    assert booking.history.count() == 1  # only its creation


def test_a_reason_must_be_text(booking, staff):
    with pytest.raises(exc.InvalidInput):
        services.cancel_bookings(booking, actor=staff, reason=["x"])


def test_surrounding_whitespace_is_trimmed_from_a_reason(booking, staff):
    services.cancel_bookings(booking, actor=staff, reason="  Instructor ill \n")

    assert refetch(booking).cancellation_reason == "Instructor ill"


# --- Bulk results -----------------------------------------------------------------------


def test_bulk_result_names_what_changed_and_what_was_skipped_and_why(session, staff):
    pending = [make_booking(session=session, status=P) for _ in range(3)]
    cancelled = [make_booking(session=session, status=C) for _ in range(2)]
    deleted = make_booking(session=session, status=A, is_deleted=True)
    selection = BookingRequest.all_objects.filter(session=session)

    result = services.cancel_bookings(selection, actor=staff, reason="Class cancelled")

    assert sorted(b.pk for b in result.done) == sorted(b.pk for b in pending)
    assert sorted(s.booking_id for s in result.skipped) == sorted(
        b.pk for b in [*cancelled, deleted]
    )
    assert result.summary() == (
        "3 cancelled; 3 skipped: 2 already cancelled, 1 deleted; restore it first"
    )
    assert refetch(deleted).status == A


def test_summary_with_one_kind_of_skip_names_just_the_reason(session, staff):
    make_booking(session=session, status=P)
    make_booking(session=session, status=C)

    result = services.cancel_bookings(BookingRequest.objects.all(), actor=staff)

    assert result.summary() == "1 cancelled; 1 skipped: already cancelled"
    assert services.approve_bookings([], actor=staff).summary() == "0 approved"


@pytest.mark.parametrize("as_selection", ["instance", "queryset", "ids", "string ids"])
def test_a_selection_is_a_booking_a_queryset_or_ids(session, staff, as_selection):
    bookings = [make_booking(session=session) for _ in range(2)]
    selection = {
        "instance": bookings[0],
        "queryset": BookingRequest.objects.filter(pk__in=[b.pk for b in bookings]),
        "ids": [b.pk for b in bookings],
        "string ids": [str(b.pk) for b in bookings],
    }[as_selection]

    result = services.approve_bookings(selection, actor=staff)

    assert result.done_count == (1 if as_selection == "instance" else 2)


def test_unknown_ids_are_skipped_as_not_found(booking, staff):
    result = services.cancel_bookings([booking.pk, 987654], actor=staff)

    assert result.done == [booking]
    assert result.skipped[0].booking_id == 987654
    assert result.skipped[0].refusal.error is exc.BookingNotFound
    assert (
        result.summary()
        == "1 cancelled; 1 skipped: no longer exists, changed meanwhile or is not yours"
    )


def test_raise_for_single_on_nothing_found(staff):
    with pytest.raises(exc.BookingNotFound):
        services.cancel_bookings([424242], actor=staff).raise_for_single()


# --- Tenant scope -------------------------------------------------------------------------


@pytest.mark.parametrize("action", services.ACTIONS)
def test_staff_ids_of_another_business_are_skipped_as_not_found(staff, other_business, action):
    theirs = make_booking(
        session=make_session(business=other_business), is_deleted=action == "restore"
    )
    options = {"confirmed": True} if action == "purge" else {}

    result = services.ACTIONS[action].service([theirs.pk], actor=staff, reason="x", **options)

    assert result.done == []
    assert result.skipped[0].refusal.error is exc.BookingNotFound
    untouched = refetch(theirs)
    assert (untouched.status, untouched.is_deleted) == (P, action == "restore")
    assert theirs.history.count() == 1


def test_a_staff_queryset_of_everything_changes_only_their_own(session, staff, other_business):
    mine = make_booking(session=session)
    theirs = make_booking(session=make_session(business=other_business))

    result = services.approve_bookings(BookingRequest.objects.all(), actor=staff)

    assert result.done == [mine] and result.skipped[0].booking_id == theirs.pk
    assert refetch(theirs).status == P


def test_a_superuser_acts_on_every_business(session, superuser, other_business):
    mine = make_booking(session=session)
    theirs = make_booking(session=make_session(business=other_business))

    result = services.approve_bookings([mine.pk, theirs.pk], actor=superuser)

    assert result.done_count == 2


def test_staff_of_no_business_finds_nothing(booking):
    loner = make_staff()

    result = services.cancel_bookings([booking.pk], actor=loner)

    assert result.done == [] and refetch(booking).status == P


# --- Client cancellation ------------------------------------------------------------


def test_client_cancels_their_own_booking(booking):
    now = timezone.now()

    cancelled = services.cancel_booking_as_client(
        reference=booking.reference, verify=lambda b: True, reason="Feeling unwell", now=now
    )

    booking = refetch(booking)
    assert cancelled.pk == booking.pk and booking.status == C
    assert (booking.cancelled_at, booking.cancelled_by, booking.cancelled_by_client) == (
        now,
        None,
        True,
    )
    assert booking.cancellation_reason == "Feeling unwell"


def test_client_reference_is_read_leniently(booking):
    services.cancel_booking_as_client(
        reference=f" {booking.reference.lower()} ", verify=lambda b: True
    )

    assert refetch(booking).status == C


@pytest.mark.parametrize("reference", ["NOPE2345", "", 12345678, None])
def test_client_unknown_reference_is_not_found(booking, reference):
    with pytest.raises(exc.BookingNotFound):
        services.cancel_booking_as_client(reference=reference, verify=lambda b: True)


def test_client_deleted_booking_is_not_found(session):
    booking = make_booking(session=session, is_deleted=True)

    with pytest.raises(exc.BookingNotFound):
        services.cancel_booking_as_client(reference=booking.reference, verify=lambda b: True)


def test_client_identity_is_checked_against_the_locked_booking_before_the_policy(staff):
    business = make_business(allow_client_cancellation=False)
    booking = make_booking(session=make_session(business=business), client_email="ada@example.com")
    seen = []

    def verify(locked):
        seen.append(locked.client_email)
        return False

    with pytest.raises(exc.IdentityNotVerified) as raised:
        services.cancel_booking_as_client(reference=booking.reference, verify=verify)

    assert seen == ["ada@example.com"] and raised.value.status_code == 403
    assert refetch(booking).status == P


def test_client_cancellation_switched_off(session):
    business = session.business
    business.booking_settings.allow_client_cancellation = False
    business.booking_settings.save()
    booking = make_booking(session=session)

    with pytest.raises(exc.PolicyForbids):
        services.cancel_booking_as_client(reference=booking.reference, verify=lambda b: True)
    assert refetch(booking).status == P


def test_client_deadline_exactly_at_its_boundary(business):
    session = make_session(business=business, starts_in=timedelta(days=2))
    on_time = make_booking(session=session)
    late = make_booking(session=session)
    deadline = session.starts_at - timedelta(hours=24)

    services.cancel_booking_as_client(
        reference=on_time.reference, verify=lambda b: True, now=deadline
    )
    with pytest.raises(exc.DeadlinePassed) as raised:
        services.cancel_booking_as_client(
            reference=late.reference,
            verify=lambda b: True,
            now=deadline + timedelta(microseconds=1),
        )

    assert refetch(on_time).status == C and refetch(late).status == P
    assert raised.value.status_code == 403 and raised.value.details["booking"].pk == late.pk


@pytest.mark.parametrize("status", [R, C])
def test_client_cannot_cancel_a_closed_booking(session, status):
    booking = make_booking(session=session, status=status)

    with pytest.raises(exc.InvalidTransition):
        services.cancel_booking_as_client(reference=booking.reference, verify=lambda b: True)


def test_client_double_submit_is_a_conflict(booking):
    services.cancel_booking_as_client(reference=booking.reference, verify=lambda b: True)

    with pytest.raises(exc.InvalidTransition) as raised:
        services.cancel_booking_as_client(reference=booking.reference, verify=lambda b: True)
    assert raised.value.status_code == 409
    assert booking.history.count() == 2


def test_client_reason_too_long_is_refused(booking):
    with pytest.raises(exc.ReasonTooLong):
        services.cancel_booking_as_client(
            reference=booking.reference, verify=lambda b: True, reason="x" * 1001
        )
    assert refetch(booking).status == P


# --- Query counts ----------------------------------------------------------------------


def _queries(action, bookings, actor):
    options = {"reason": "tidy", **({"confirmed": True} if action == "purge" else {})}
    ids = [b.pk for b in bookings]
    with CaptureQueriesContext(connection) as captured:
        result = services.ACTIONS[action].service(ids, actor=actor, **options)
    assert result.done_count == len(bookings)
    return len(captured)


@pytest.mark.parametrize("action", services.ACTIONS)
def test_bulk_query_count_does_not_grow_with_rows(
    session, staff, action, django_assert_max_num_queries
):
    deleted = action == "restore"
    few = [make_booking(session=session, is_deleted=deleted) for _ in range(10)]
    many = BookingRequest.all_objects.bulk_create(
        [
            BookingRequest(
                session=session, client_name=f"C {n}", client_email=f"c{n}@example.com",
                is_deleted=deleted, reference=f"BULK{n:04d}".replace("0", "A").replace("1", "B"),
            )
            for n in range(300)
        ]
    )  # fmt: skip

    staff.has_perm(services.ACTIONS[action].permission)  # load the permission cache once

    with django_assert_max_num_queries(10):
        few_queries = _queries(action, few, staff)
    many_queries = _queries(action, many, staff)

    assert many_queries == few_queries


@pytest.mark.parametrize("reason", ["a\x00b", "lone \ud800 surrogate"])
def test_a_reason_the_database_cannot_store_is_bad_input(booking, staff, reason):
    with pytest.raises(exc.InvalidInput):
        services.cancel_bookings([booking.pk], actor=staff, reason=reason)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_the_callers_filters_are_checked_again_under_the_lock(monkeypatch, booking, staff):
    """A booking restored after "purge the deleted ones" was resolved is not purged."""
    from booking.services import lifecycle

    services.soft_delete_bookings([booking.pk], actor=staff, reason="duplicate")
    resolve = lifecycle._selected_ids

    def resolve_then_restore_elsewhere(selection):
        ids = resolve(selection)
        monkeypatch.setattr(lifecycle, "_selected_ids", resolve)  # once
        services.restore_bookings([booking.pk], actor=staff, reason="mistake")
        return ids

    monkeypatch.setattr(lifecycle, "_selected_ids", resolve_then_restore_elsewhere)

    result = services.purge_bookings(
        BookingRequest.all_objects.deleted(), actor=staff, reason="retention", confirmed=True
    )

    assert result.done_count == 0
    assert [skip.booking_id for skip in result.skipped] == [booking.pk]
    assert BookingRequest.objects.filter(pk=booking.pk).exists()
