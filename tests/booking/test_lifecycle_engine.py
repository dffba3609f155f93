"""What every life-cycle service shares (`booking.services.lifecycle.engine`): actors, reasons,
bulk results, tenant scope, locking and query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import services
from booking.models import BookingRequest, BookingStatus
from booking.services import exceptions as exc
from booking.services.lifecycle import engine
from booking.services.policy import snapshot_terms
from tests.booking.lifecycle_support import A, C, P, refetch
from tests.factories import make_booking, make_session, make_staff

# --- Permissions and actors -------------------------------------------------------------


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
    if action == "move":  # a target of the staff's own business
        options["session"] = make_session(business=staff.businesses.get()).pk

    result = services.ACTIONS[action].service([theirs.pk], actor=staff, reason="x", **options)

    assert result.done == []
    assert result.skipped[0].refusal.error is exc.BookingNotFound
    untouched = refetch(theirs)
    assert (untouched.status, untouched.is_deleted) == (P, action == "restore")
    assert theirs.history.count() == 1


def test_a_staff_queryset_of_everything_changes_only_their_own(session, staff, other_business):
    """A queryset is narrowed to the actor's scope as it is resolved: another business's
    rows are neither changed nor named (ids given by the caller are named as skipped)."""
    mine = make_booking(session=session)
    theirs = make_booking(session=make_session(business=other_business))

    result = services.approve_bookings(BookingRequest.objects.all(), actor=staff)

    assert result.done == [mine] and result.skipped == []
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


# --- Query counts ----------------------------------------------------------------------


def _queries(action, bookings, actor):
    options = {"reason": "tidy", **({"confirmed": True} if action == "purge" else {})}
    if action == "move":  # a target with room for every booking
        options["session"] = make_session(business=bookings[0].session.business, capacity=1000).pk
    ids = [b.pk for b in bookings]
    with CaptureQueriesContext(connection) as captured:
        result = services.ACTIONS[action].service(ids, actor=actor, **options)
    assert result.done_count == len(bookings)
    return len(captured)


@pytest.mark.parametrize("action", services.ACTIONS)
def test_bulk_query_count_does_not_grow_with_rows(
    session, staff, action, django_assert_max_num_queries
):
    # Bookings the action changes: deleted ones to restore, approved ones of a
    # started session to mark, owed fees to waive, else pending ones.
    fields = {
        "restore": {"is_deleted": True},
        "mark_attended": {"status": BookingStatus.APPROVED},
        "mark_no_show": {"status": BookingStatus.APPROVED},
        "waive_fee": {"fee_amount": Decimal("5.00"), "fee_status": "owed"},
    }.get(action, {})
    if action.startswith("mark_"):
        session = make_session(business=session.business, starts_in=-timedelta(hours=1))
    if action == "restore":  # room for every booking it brings back
        session = make_session(business=session.business, capacity=1000)
    few = [make_booking(session=session, **fields) for _ in range(10)]
    unsaved = [
        BookingRequest(
            session=session, client_name=f"C {n}", client_email=f"c{n}@example.com",
            reference=f"BULK{n:04d}".replace("0", "A").replace("1", "B"), **fields,
        )
        for n in range(300)
    ]  # fmt: skip
    snapshot_terms(unsaved)  # as every creation path does
    many = BookingRequest.all_objects.bulk_create(unsaved)

    staff.has_perm(services.ACTIONS[action].permission)  # load the permission cache once

    # A move also creates its target here (2 queries), then locks it and counts its
    # bookings in a savepoint of its own (4 more): still a constant. An action that
    # frees or counts spots locks the sessions first (1 more) and asks which of them
    # have a waitlist or counts their room (1 more, per session).
    with django_assert_max_num_queries(17 if action == "move" else 11):
        few_queries = _queries(action, few, staff)
    many_queries = _queries(action, many, staff)

    assert many_queries == few_queries


@pytest.mark.parametrize("reason", ["a\x00b", "lone \ud800 surrogate"])
def test_a_reason_the_database_cannot_store_is_bad_input(booking, staff, reason):
    with pytest.raises(exc.InvalidInput):
        services.cancel_bookings([booking.pk], actor=staff, reason=reason)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_a_querysets_selection_is_not_sent_again_per_batch(monkeypatch, session, staff):
    """Its list of keys (the admin's ticked rows) is sent once, to resolve it; each
    batch's locking statement applies the caller's other filters again, under the
    lock, with the batch's keys only."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 5)
    ids = [make_booking(session=session, client_name=f"Selected {n}").pk for n in range(20)]
    selection = BookingRequest.objects.filter(pk__in=ids, client_name__startswith="Selected")
    sent: list[tuple[str, set]] = []

    def record(execute, sql, params, many, context):
        flat = set()
        for param in params or ():
            flat.update(param if isinstance(param, list) else [param])
        sent.append((sql, flat))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = services.cancel_bookings(selection, actor=staff, notify_client=False)

    assert result.done_count == 20
    with_every_key = [(sql, params) for sql, params in sent if params >= set(ids)]
    with_filters = [(sql, params) for sql, params in sent if "Selected%" in params]
    assert with_every_key == with_filters[:1]  # sent once, to resolve the selection
    assert len(with_filters) == 5  # resolved once, then four batches locked
    batches = [set(ids[n : n + 5]) for n in range(0, 20, 5)]
    assert all(
        batch <= params for batch, (_, params) in zip(batches, with_filters[1:], strict=True)
    )


def test_a_row_that_no_longer_matches_the_filters_when_its_batch_locks_is_left_out(session, staff):
    """The filters hold under each batch's lock: a row that no longer matches is
    neither locked nor loaded (here, a booking soft-deleted after the selection
    was resolved: `objects` is the live bookings)."""
    kept, hidden = make_booking(session=session), make_booking(session=session)
    selection = BookingRequest.objects.filter(pk__in=[kept.pk, hidden.pk])
    resolved = engine.selected_ids(selection, staff)
    BookingRequest.all_objects.filter(pk=hidden.pk).update(is_deleted=True)

    locked = engine.lock(tuple(resolved), staff, with_policy=False, among=selection)

    assert [booking.pk for booking in locked] == [kept.pk]


def test_a_key_list_holding_none_selects_as_django_filters_it(session, staff):
    booking = make_booking(session=session)
    selection = BookingRequest.objects.filter(pk__in=[booking.pk, None])

    result = services.cancel_bookings(selection, actor=staff, notify_client=False)

    assert [b.pk for b in result.done] == [booking.pk]
