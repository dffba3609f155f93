"""The superuser's "Erase client's personal data" action on the booking admin."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from booking.admin.erasure import MAX_CLIENTS
from booking.models import BookingRequest
from booking.services.erasure import DEFAULT_REASON, ERASED_NAME
from tests.booking.admin_helpers import CHANGE_FORM_ACTION, CHANGELIST, change_url, messages_of
from tests.factories import make_booking, make_session

ACTION = "erase_client_data"
ORIGIN = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Support's browser"}


@pytest.fixture
def root(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def ada(session, other_business):
    """Ada's bookings in two businesses; Bob's booking beside them."""
    here = make_booking(session=session, client_name="Ada Lovelace", client_email="ada@example.com")
    there = make_booking(
        session=make_session(business=other_business),
        client_name="Ada L.",
        client_email="ADA@example.com",
        client_phone="",
    )
    bob = make_booking(session=session, client_name="Bob", client_email="bob@example.com")
    return {"here": here, "there": there, "bob": bob}


def choose(client, bookings, *, url=CHANGELIST, field="action", **extra):
    return client.post(
        url, {field: ACTION, ACTION_CHECKBOX_NAME: [b.pk for b in bookings], **extra}
    )


def confirm(client, bookings, clients, *, url=CHANGELIST, field="action", typed="ERASE", **extra):
    data = {
        field: ACTION,
        ACTION_CHECKBOX_NAME: [b.pk for b in bookings],
        "client": clients,
        "post": "yes",
        "confirmation": typed,
        "reason": "",
        **extra,
    }
    return client.post(url, data, **ORIGIN)


def refreshed(booking):
    return BookingRequest.all_objects.get(pk=booking.pk)


def choices(client, url=CHANGELIST):
    form = client.get(url).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name}


def test_only_superusers_are_offered_the_erasure(client, staff, root, ada):
    assert ACTION in choices(root)
    assert ACTION in choices(root, change_url(ada["here"]))
    client.force_login(staff)  # every booking permission, not a superuser
    assert ACTION not in choices(client)
    assert ACTION not in choices(client, change_url(ada["here"]))


def test_a_forged_erasure_by_staff_changes_nothing(client, staff, ada):
    client.force_login(staff)
    confirm(client, [ada["here"]], ["email:ada@example.com"])
    assert refreshed(ada["here"]).client_email == "ada@example.com"


def test_the_page_lists_each_client_with_exact_counts_and_changes_nothing(root, ada):
    page = choose(root, [ada["here"], ada["bob"]])
    assert page.status_code == 200
    previews = {client.key: result for client, result in page.context["previews"]}
    assert set(previews) == {"email:ada@example.com", "email:bob@example.com"}
    # Per client, everywhere: Ada's booking in the other business too.
    assert previews["email:ada@example.com"].booking_ids == sorted(
        [ada["here"].pk, ada["there"].pk]
    )
    assert previews["email:ada@example.com"].changed["bookings"] == 2
    assert 'value="email:ada@example.com"' in page.content.decode()
    assert refreshed(ada["here"]).client_email == "ada@example.com"
    assert refreshed(ada["there"]).client_email == "ADA@example.com"


def test_confirming_without_typing_erase_changes_nothing(root, ada):
    page = confirm(root, [ada["here"]], ["email:ada@example.com"], typed="erase")
    assert page.status_code == 200
    assert "Type ERASE exactly" in page.content.decode()
    assert refreshed(ada["here"]).client_name == "Ada Lovelace"


def test_erasing_a_client_erases_them_everywhere_and_is_audited(root, superuser, ada):
    response = confirm(root, [ada["here"]], ["email:ada@example.com"])

    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("Erased the personal data of 1 client (2 bookings, ")
    assert "ada" not in message.casefold()  # messages outlive the erasure in the session
    for booking in (ada["here"], ada["there"]):
        booking = refreshed(booking)
        assert (booking.client_name, booking.client_email, booking.client_phone) == (
            ERASED_NAME,
            "",
            "",
        )
    record = BookingRequest.history.filter(id=ada["here"].pk).latest("history_id")
    assert (record.history_user, record.history_change_reason) == (superuser, DEFAULT_REASON)
    assert (record.ip_address, record.user_agent) == ("203.0.113.9", "Support's browser")
    assert refreshed(ada["bob"]).client_email == "bob@example.com"


def test_only_the_clients_the_page_showed_are_erased(root, ada):
    # The selection names Bob too, but the page that was confirmed showed only Ada.
    response = confirm(root, [ada["here"], ada["bob"]], ["email:ada@example.com"])
    assert messages_of(response)[0].startswith("Erased the personal data of 1 client")
    assert refreshed(ada["bob"]).client_name == "Bob"
    assert refreshed(ada["here"]).client_name == ERASED_NAME


def test_a_client_no_longer_selected_is_left_alone_and_reported(root, ada):
    response = confirm(root, [ada["bob"]], ["email:ada@example.com", "email:bob@example.com"])
    [message] = messages_of(response)
    assert "1 client shown on the confirmation page is no longer selected" in message
    assert refreshed(ada["here"]).client_name == "Ada Lovelace"
    assert refreshed(ada["bob"]).client_name == ERASED_NAME


def test_a_client_without_email_is_erased_by_phone(root, session):
    booking = make_booking(session=session, client_email="", client_phone="07700 900 999")
    page = choose(root, [booking])
    [(client, _)] = page.context["previews"]
    assert client.key == "phone:7700900999"
    confirm(root, [booking], [client.key])
    assert refreshed(booking).client_phone == ""


def test_a_selection_of_too_many_clients_is_refused(root, session):
    bookings = [
        make_booking(session=session, client_email=f"client{n}@example.com")
        for n in range(MAX_CLIENTS + 1)
    ]
    response = choose(root, bookings[:1], select_across="1")
    assert response.status_code == 302
    assert f"more than {MAX_CLIENTS} clients; nothing was erased" in messages_of(response)[0]
    assert refreshed(bookings[0]).client_email == "client0@example.com"


def test_already_erased_bookings_have_nothing_to_erase(root, session):
    booking = make_booking(
        session=session, client_name=ERASED_NAME, client_email="", client_phone=""
    )
    response = choose(root, [booking])
    assert messages_of(response) == [
        "The selected bookings hold no personal data (already erased); nothing to do."
    ]


def test_from_the_change_form_the_page_posts_back_there(root, ada):
    url = change_url(ada["here"])
    page = choose(root, [ada["here"]], url=url, field=CHANGE_FORM_ACTION)
    content = page.content.decode()
    assert f'action="{url}"' in content
    assert f'name="{CHANGE_FORM_ACTION}" value="{ACTION}"' in content

    response = confirm(
        root, [ada["here"]], ["email:ada@example.com"], url=url, field=CHANGE_FORM_ACTION
    )
    assert response.status_code == 302 and response["Location"] == url
    assert refreshed(ada["here"]).client_name == ERASED_NAME
