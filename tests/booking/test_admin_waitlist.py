"""The waitlist's admin: the entries' list, add page and actions, and the session's queue;
each scoped to the user's businesses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from booking.models import BookingStatus, WaitlistEntry, WaitlistStatus
from booking.services import waitlist
from tests.booking.admin_helpers import messages_of
from tests.booking.test_waitlist import WAITLIST_PERMISSIONS
from tests.factories import ALL_BOOKING_PERMISSIONS, make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/booking/waitlistentry/"
ADD = ENTRIES + "add/"
PERMISSIONS = [*ALL_BOOKING_PERMISSIONS, *WAITLIST_PERMISSIONS, "view_session", "change_session"]


@pytest.fixture
def desk(client, business):
    client.force_login(make_staff(businesses=(business,), permissions=PERMISSIONS))
    return client


@pytest.fixture
def full(business):
    session = make_session(business=business, title="Full spin", capacity=1)
    make_booking(session=session, status=BookingStatus.APPROVED, client_email="in@x.org")
    return session


def queue(session, *emails):
    return [
        waitlist.join(session, client_name=e.split("@")[0], client_email=e, actor=None)
        for e in emails
    ]


def add(client, session, email="wanda@x.org"):
    data = {"session": session.pk, "client_name": "Wanda", "client_email": email}
    return client.post(ADD, {**data, "client_phone": ""}, REMOTE_ADDR="203.0.113.5")


def act(client, action, entries):
    return client.post(ENTRIES, {"action": action, "_selected_action": [e.pk for e in entries]})


def test_staff_add_a_client_through_the_service(desk, full):
    response = add(desk, full)

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.status, entry.client_email) == (WaitlistStatus.WAITING, "wanda@x.org")
    record = entry.history.get()
    assert record.history_user is not None and record.ip_address == "203.0.113.5"


def test_the_add_form_shows_the_services_refusal(desk, full):
    add(desk, full)
    response = add(desk, full, email="WANDA@x.org")

    assert response.status_code == 200
    assert "This client is already on the session&#x27;s waitlist." in response.content.decode()
    assert WaitlistEntry.objects.count() == 1


def test_the_add_form_refuses_another_business_session(desk, other_business):
    theirs = make_session(business=other_business, capacity=1)
    response = add(desk, theirs)
    assert response.status_code == 200 and "session" in response.context["adminform"].form.errors
    assert not WaitlistEntry.objects.exists()


def test_the_list_shows_only_the_users_businesses(desk, full, other_business):
    mine = queue(full, "mine@x.org")
    theirs = queue(make_session(business=other_business, capacity=1), "theirs@x.org")

    response = desk.get(ENTRIES)
    assert [e.pk for e in response.context["cl"].result_list] == [mine[0].pk]
    assert desk.get(
        reverse("admin:booking_waitlistentry_change", args=[theirs[0].pk])
    ).status_code in (302, 404)
    assert desk.get(ENTRIES + f"?q={theirs[0].reference}").context["cl"].result_count == 0


def test_the_list_filters_by_status_and_searches(desk, full):
    first, second = queue(full, "first@x.org", "second@x.org")
    waitlist.remove_entries([first.pk], actor=None)

    removed = desk.get(ENTRIES + "?status__exact=removed").context["cl"].result_list
    found = desk.get(ENTRIES + "?q=second").context["cl"].result_list
    assert [e.pk for e in removed] == [first.pk] and [e.pk for e in found] == [second.pk]


def test_remove_action_passes_an_offer_on(desk, full):
    first, second = queue(full, "first@x.org", "second@x.org")
    full.bookings.update(status=BookingStatus.CANCELLED)
    waitlist.offer_freed_spots([full])

    response = act(desk, "remove_entries", [first])

    assert messages_of(response) == ["1 removed."]
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.REMOVED
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistStatus.OFFERED


def test_offer_now_action_needs_a_free_spot(desk, full):
    [entry] = queue(full, "w@x.org")
    response = act(desk, "offer_now", [entry])
    assert messages_of(response) == ["0 offered; 1 skipped: 1 the session has no free spot."]

    full.capacity = 2
    full.save()
    assert messages_of(act(desk, "offer_now", [entry])) == ["1 offered."]
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.OFFERED


def test_actions_need_their_permissions(client, business, full):
    client.force_login(
        make_staff(businesses=(business,), permissions=["view_waitlistentry", "view_session"])
    )
    [entry] = queue(full, "w@x.org")
    assert client.get(ENTRIES).context["action_form"] is None  # no action offered
    act(client, "remove_entries", [entry])
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_an_entry_is_read_only_once_made(desk, full):
    [entry] = queue(full, "w@x.org")
    url = reverse("admin:booking_waitlistentry_change", args=[entry.pk])
    desk.post(url, {"client_name": "Changed", "client_email": "changed@x.org"})
    assert WaitlistEntry.objects.get(pk=entry.pk).client_name == "w"


def test_the_session_page_shows_spots_and_its_queue(desk, full, other_business):
    queue(full, "first@x.org", "second@x.org")
    response = desk.get(reverse("admin:booking_session_change", args=[full.pk]))
    page = response.content.decode()
    assert "1 booked / 1 capacity · 2 waiting, 0 offered" in page
    assert "first@x.org" in page and "second@x.org" in page
    assert f"{ADD}?session={full.pk}" in page

    listed = desk.get("/admin/booking/session/").context["cl"].result_list
    assert [s.waiting_count for s in listed] == [2]


def test_the_session_page_never_shows_another_business_queue(client, full, other_business):
    client.force_login(make_staff(businesses=(other_business,), permissions=PERMISSIONS))
    queue(full, "first@x.org")
    theirs = make_session(business=other_business, starts_in=timedelta(days=2))
    page = client.get(reverse("admin:booking_session_change", args=[theirs.pk])).content.decode()
    assert "first@x.org" not in page
    response = client.get(reverse("admin:booking_session_change", args=[full.pk]))
    assert response.status_code in (302, 404)


@pytest.mark.parametrize("how", ["delete view", "delete action"])
def test_a_session_with_a_waitlist_cannot_be_deleted(client, business, how):
    """Deleting it would drop its waitlist unseen by the clients on it (and a closed
    entry is the waitlist's history, which the report counts): the entries protect the
    session, as its bookings do, and the admin lists them; cancelling the session is
    the way to close its waitlist and tell the clients."""
    from booking.models import Session

    client.force_login(
        make_staff(businesses=(business,), permissions=[*PERMISSIONS, "delete_session"])
    )
    session = make_session(business=business, title="Quiet yoga", capacity=1)
    [entry] = queue(session, "wanda@x.org")  # offered the free spot at once
    sessions = "/admin/booking/session/"

    def delete():
        if how == "delete view":
            return client.post(f"{sessions}{session.pk}/delete/", {"post": "yes"})
        data = {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"}
        return client.post(sessions, data)

    response = delete()
    page = response.content.decode()
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in page
    assert f"{entry.reference} — wanda (offered)" in page
    assert Session.objects.filter(pk=session.pk).exists()
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.OFFERED

    waitlist.remove_entries([entry.pk], actor=None)  # closed: still the waitlist's history
    assert f"{entry.reference} — wanda (removed)" in delete().content.decode()
    assert Session.objects.filter(pk=session.pk).exists()
