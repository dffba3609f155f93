"""The six booking actions: confirmation page, acting only on post=yes, one summary message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from booking.models import BookingRequest, BookingStatus
from booking.services import notifications
from booking.services.lifecycle import engine
from tests.booking.admin_helpers import (
    CHANGE_FORM_ACTION,
    CHANGELIST,
    change_url,
    choose,
    confirm,
    messages_of,
)
from tests.factories import make_booking, make_business, make_session, make_staff

pytestmark = pytest.mark.django_db

CONFIRMATION_TEMPLATE = "admin/booking/action_confirmation.html"


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def removals(monkeypatch):
    """The notification hook's calls (the email engineer's outbox plugs in behind it)."""
    calls = []
    monkeypatch.setattr(
        notifications,
        "bookings_removed",
        lambda bookings, *, purged: calls.append(([b.reference for b in bookings], purged)),
    )
    return calls


def refreshed(booking):
    return BookingRequest.all_objects.get(pk=booking.pk)


# --- The confirmation page ----------------------------------------------------


def test_choosing_an_action_shows_what_will_happen_and_changes_nothing(desk, session):
    pending = make_booking(session=session)
    cancelled = make_booking(session=session, status=BookingStatus.CANCELLED)

    response = choose(desk, "cancel_bookings", [pending, cancelled])

    assert response.status_code == 200
    assert CONFIRMATION_TEMPLATE in [t.name for t in response.templates]
    outcomes = {o.booking.reference: o for o in response.context["outcomes"]}
    assert outcomes[pending.reference].changes
    assert outcomes[cancelled.reference].refusal.message == "already cancelled"
    assert response.context["summary"] == [
        (1, "will be cancelled"),
        (1, "skipped: already cancelled"),
    ]
    content = response.content.decode()
    assert 'name="post" value="yes"' in content
    assert "Yes, cancel 1 booking" in content
    assert refreshed(pending).status == BookingStatus.PENDING


def test_policy_skips_are_previewed(desk, staff):
    strict = make_business(staff=(staff,), allow_admin_deletion=False)
    booking = make_booking(session=make_session(business=strict))

    response = choose(desk, "soft_delete_bookings", [booking])

    assert response.context["summary"] == [(1, "skipped: deletion disabled for this business")]
    assert "Nothing to do" in response.content.decode()


def test_a_post_without_post_yes_changes_nothing(desk, booking):
    response = desk.post(
        CHANGELIST,
        {
            "action": "cancel_bookings",
            "_selected_action": [booking.pk],
            "reason": "x",
            "post": "no",
        },
    )

    assert response.status_code == 200
    assert refreshed(booking).status == BookingStatus.PENDING


# --- Each action ------------------------------------------------------------------


def test_cancel_records_who_why_and_where_and_sums_up(desk, staff, session):
    pending = make_booking(session=session)
    approved = make_booking(session=session, status=BookingStatus.APPROVED)
    cancelled = make_booking(session=session, status=BookingStatus.CANCELLED)

    response = confirm(
        desk, "cancel_bookings", [pending, approved, cancelled], reason="Instructor ill"
    )

    assert response.status_code == 302
    assert messages_of(response) == ["2 cancelled; 1 skipped: already cancelled"]
    for booking in (pending, approved):
        booking = refreshed(booking)
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancelled_by == staff
        assert booking.cancellation_reason == "Instructor ill"
        assert not booking.cancelled_by_client
        record = booking.history.latest()
        assert (record.history_user, record.history_change_reason) == (staff, "Instructor ill")
        assert (record.ip_address, record.user_agent) == ("203.0.113.7", "pytest-browser/1.0")


def test_cancel_passes_notify_client_from_the_checkbox(desk, session, monkeypatch):
    calls = []
    monkeypatch.setattr(
        notifications,
        "bookings_cancelled",
        lambda bookings, *, by_client, notify_client, **_: calls.append(notify_client),
    )
    ticked, unticked = make_booking(session=session), make_booking(session=session)

    confirm(desk, "cancel_bookings", [ticked], notify=True)
    confirm(desk, "cancel_bookings", [unticked], notify=False)

    assert calls == [True, False]


def test_approve_and_reject(desk, session):
    to_approve, to_reject = make_booking(session=session), make_booking(session=session)

    approved = confirm(desk, "approve_bookings", [to_approve])
    rejected = confirm(desk, "reject_bookings", [to_reject], reason="Class full")

    assert messages_of(approved) == ["1 approved"]
    assert messages_of(rejected) == ["1 rejected"]
    assert refreshed(to_approve).status == BookingStatus.APPROVED
    assert refreshed(to_reject).status == BookingStatus.REJECTED


def test_reject_skips_what_cannot_be_rejected(desk, session):
    approved = make_booking(session=session, status=BookingStatus.APPROVED)

    response = confirm(desk, "reject_bookings", [approved])

    assert messages_of(response) == ["0 rejected; 1 skipped: cannot go from approved to rejected"]
    assert refreshed(approved).status == BookingStatus.APPROVED


def test_soft_delete_requires_the_reason_the_business_asks_for(desk, booking):
    page = choose(desk, "soft_delete_bookings", [booking])
    assert page.context["form"].fields["reason"].required

    response = confirm(desk, "soft_delete_bookings", [booking], reason="   ")

    assert response.status_code == 200
    assert "This field is required." in response.context["form"].errors["reason"]
    assert not refreshed(booking).is_deleted


def test_soft_delete_without_reason_where_the_business_does_not_ask(desk, staff):
    relaxed = make_business(staff=(staff,), require_deletion_reason=False)
    booking = make_booking(session=make_session(business=relaxed))

    response = confirm(desk, "soft_delete_bookings", [booking])

    assert messages_of(response) == ["1 soft-deleted"]
    assert refreshed(booking).is_deleted


def test_soft_delete_hides_the_booking_and_tells_the_client_unless_unticked(
    desk, staff, session, removals
):
    told, untold = make_booking(session=session), make_booking(session=session)

    confirm(desk, "soft_delete_bookings", [told], reason="Duplicate")
    confirm(desk, "soft_delete_bookings", [untold], reason="Duplicate", notify=False)

    assert removals == [([told.reference], False)]
    told = refreshed(told)
    assert (told.is_deleted, told.deleted_by, told.deletion_reason) == (True, staff, "Duplicate")
    assert told.reference not in desk.get(CHANGELIST).content.decode()


def test_soft_delete_is_refused_where_the_business_disallows_deletion(desk, staff):
    strict = make_business(staff=(staff,), allow_admin_deletion=False)
    booking = make_booking(session=make_session(business=strict))

    response = confirm(desk, "soft_delete_bookings", [booking], reason="Duplicate")

    assert messages_of(response) == [
        "0 soft-deleted; 1 skipped: deletion disabled for this business"
    ]
    assert not refreshed(booking).is_deleted


def test_a_reason_over_1000_characters_is_a_form_error_not_truncated(desk, booking):
    response = confirm(desk, "cancel_bookings", [booking], reason="x" * 1001)

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert refreshed(booking).status == BookingStatus.PENDING


def test_restore_works_through_the_deleted_filter(desk, session):
    deleted = make_booking(session=session, is_deleted=True)

    from_live_list = confirm(desk, "restore_bookings", [deleted])
    assert refreshed(deleted).is_deleted  # not in the live list: nothing to restore
    assert messages_of(from_live_list) == [
        "0 restored; 1 skipped: no longer exists, changed meanwhile or is not yours"
    ]

    response = confirm(desk, "restore_bookings", [deleted], url=f"{CHANGELIST}?deleted=yes")

    assert response.status_code == 302
    assert response.url == f"{CHANGELIST}?deleted=yes"
    assert messages_of(response) == ["1 restored"]
    restored = refreshed(deleted)
    assert (restored.is_deleted, restored.deleted_at, restored.deletion_reason) == (False, None, "")


def test_purge_needs_the_typed_confirmation(desk, booking):
    for typed in ["", "purge", "PURGE "]:
        response = confirm(desk, "purge_bookings", [booking], reason="GDPR", confirmation=typed)
        assert response.status_code == 200
        assert response.context["form"].errors["confirmation"]
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_purge_deletes_and_keeps_the_final_record(desk, staff, booking):
    response = confirm(desk, "purge_bookings", [booking], reason="GDPR", confirmation="PURGE")

    assert messages_of(response) == ["1 purged"]
    assert not BookingRequest.all_objects.filter(pk=booking.pk).exists()
    final = BookingRequest.history.filter(id=booking.pk).latest()
    assert (final.history_type, final.history_user, final.history_change_reason) == (
        "-",
        staff,
        "GDPR",
    )


# --- Permissions and Django's own delete ---------------------------------------------


def action_choices(client, url=CHANGELIST):
    response = client.get(url)
    return {name for name, _ in response.context["action_form"].fields["action"].choices if name}


def test_actions_are_offered_only_with_their_permission(client, business, booking):
    only_cancel = make_staff(
        businesses=(business,), permissions=["view_bookingrequest", "cancel_bookingrequest"]
    )
    client.force_login(only_cancel)

    assert action_choices(client) == {"cancel_bookings"}
    assert action_choices(client, change_url(booking)) == {"cancel_bookings"}


def test_every_action_for_a_fully_permitted_user_and_no_delete_selected(desk, booking):
    assert action_choices(desk) == {
        "mark_attended",
        "mark_no_show",
        "waive_fees",
        "approve_bookings",
        "reject_bookings",
        "cancel_bookings",
        "soft_delete_bookings",
        "restore_bookings",
        "purge_bookings",
        "move_bookings",
        "export_admin_action",  # django-import-export's, with the export permission
    }


def test_an_action_without_permission_changes_nothing_even_when_posted(client, business, booking):
    viewer = make_staff(businesses=(business,), permissions=["view_bookingrequest"])
    client.force_login(viewer)

    confirm(client, "purge_bookings", [booking], reason="x", confirmation="PURGE")

    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_django_delete_is_unavailable_for_bookings(desk, superuser, client, booking):
    delete_url = reverse("admin:booking_bookingrequest_delete", args=[booking.pk])
    assert desk.get(delete_url).status_code == 403
    assert desk.post(delete_url, {"post": "yes"}).status_code == 403
    desk.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [booking.pk], "post": "yes"}
    )
    client.force_login(superuser)
    assert "delete_selected" not in action_choices(client)
    assert BookingRequest.all_objects.filter(pk=booking.pk).exists()


# --- Stale and tampered confirmations -----------------------------------------------------


def test_ids_of_another_business_are_left_alone(desk, other_business, booking):
    theirs = make_booking(session=make_session(business=other_business))

    page = choose(desk, "cancel_bookings", [booking, theirs])
    assert page.context["missing"] == 1
    assert theirs.reference not in page.content.decode()

    response = confirm(desk, "cancel_bookings", [booking, theirs], reason="x")

    assert messages_of(response) == [
        "1 cancelled; 1 skipped: no longer exists, changed meanwhile or is not yours"
    ]
    assert refreshed(theirs).status == BookingStatus.PENDING
    assert refreshed(booking).status == BookingStatus.CANCELLED


def test_a_booking_changed_since_the_page_was_shown_is_skipped(desk, staff, booking):
    choose(desk, "approve_bookings", [booking])
    BookingRequest.all_objects.filter(pk=booking.pk).update(status=BookingStatus.APPROVED)
    booking.history.all().delete()

    response = confirm(desk, "approve_bookings", [booking])

    assert messages_of(response) == ["0 approved; 1 skipped: already approved"]
    assert not booking.history.exists()  # nothing written: nothing changed


def test_a_booking_purged_since_the_page_was_shown_is_reported(desk, booking):
    gone = make_booking(session=booking.session)
    choose(desk, "cancel_bookings", [booking, gone])
    BookingRequest.all_objects.filter(pk=gone.pk).delete()

    response = confirm(desk, "cancel_bookings", [booking, gone])

    assert messages_of(response) == [
        "1 cancelled; 1 skipped: no longer exists, changed meanwhile or is not yours"
    ]


def test_a_selection_that_is_not_ids_is_refused(desk, booking):
    response = desk.post(
        CHANGELIST, {"action": "cancel_bookings", "_selected_action": ["1 OR 1=1"], "post": "yes"}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["The selection is not valid; nothing changed."]
    assert refreshed(booking).status == BookingStatus.PENDING


def test_select_across_acts_on_the_filtered_list_only(desk, session):
    pending = [make_booking(session=session) for _ in range(3)]
    approved = make_booking(session=session, status=BookingStatus.APPROVED)
    url = f"{CHANGELIST}?status__exact=pending"

    page = choose(desk, "cancel_bookings", pending[:1], url=url, select_across="1")
    assert page.context["select_across"]
    assert page.context["total"] == 3
    assert 'name="select_across" value="1"' in page.content.decode()

    response = confirm(desk, "cancel_bookings", pending[:1], url=url, select_across="1")

    assert messages_of(response) == ["3 cancelled"]
    assert refreshed(approved).status == BookingStatus.APPROVED


def test_ticked_rows_are_sent_once_and_each_batch_locks_under_the_lists_filters(
    desk, session, monkeypatch
):
    """The change list's filters hold under each batch's lock; its ticked ids (one
    parameter each) are not sent again with every batch."""
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    live = [make_booking(session=session) for _ in range(4)]
    deleted = make_booking(session=session, is_deleted=True)  # not in the live list
    ticked = {b.pk for b in [*live, deleted]}
    sent: list[set] = []

    def record(execute, sql, params, many, context):
        sent.append(
            {p for param in params or () for p in (param if isinstance(param, list) else [param])}
        )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = confirm(desk, "cancel_bookings", [*live, deleted])

    assert messages_of(response) == [
        "4 cancelled; 1 skipped: no longer exists, changed meanwhile or is not yours"
    ]
    assert refreshed(deleted).status == BookingStatus.PENDING
    assert len([params for params in sent if params >= ticked]) == 1


# --- The same actions on a booking's change form ---------------------------------------------


def test_the_change_form_offers_the_actions_and_the_page_posts_back_there(desk, booking):
    url = change_url(booking)
    form = desk.get(url).content.decode()
    assert f'name="{CHANGE_FORM_ACTION}"' in form

    page = desk.post(url, {CHANGE_FORM_ACTION: "cancel_bookings", "_selected_action": booking.pk})

    assert CONFIRMATION_TEMPLATE in [t.name for t in page.templates]
    content = page.content.decode()
    assert f'action="{url}"' in content
    assert f'name="{CHANGE_FORM_ACTION}" value="cancel_bookings"' in content

    response = desk.post(
        url,
        {
            CHANGE_FORM_ACTION: "cancel_bookings",
            "_selected_action": booking.pk,
            "post": "yes",
            "reason": "Moved to Friday",
        },
    )

    assert response.status_code == 302
    assert response.url == url
    assert messages_of(response) == ["1 cancelled"]
    assert refreshed(booking).cancellation_reason == "Moved to Friday"


def test_purge_from_the_change_form_returns_to_the_list(desk, booking):
    response = desk.post(
        change_url(booking),
        {
            CHANGE_FORM_ACTION: "purge_bookings",
            "_selected_action": booking.pk,
            "post": "yes",
            "reason": "GDPR",
            "confirmation": "PURGE",
        },
    )

    assert response.status_code == 302
    assert response.url == CHANGELIST
    assert not BookingRequest.all_objects.filter(pk=booking.pk).exists()


def test_a_deleted_booking_is_read_only_but_can_be_restored_from_its_page(desk, session):
    deleted = make_booking(session=session, is_deleted=True)
    url = change_url(deleted)

    page = desk.get(url)
    assert not page.context["has_change_permission"]
    assert "This booking is deleted" in page.content.decode()

    desk.post(
        url, {CHANGE_FORM_ACTION: "restore_bookings", "_selected_action": deleted.pk, "post": "yes"}
    )

    assert not refreshed(deleted).is_deleted


@pytest.mark.parametrize("tampered", ["²", "9" * 25, "\u0661"])
def test_a_selection_that_is_not_primary_keys_changes_nothing(desk, booking, tampered):
    response = confirm(desk, "cancel_bookings", [booking], _selected_action=[tampered])

    assert response.status_code == 302
    assert refreshed(booking).status == BookingStatus.PENDING
