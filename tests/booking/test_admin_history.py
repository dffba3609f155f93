"""The audit trail in the admin: history pages and the booking's compact timeline."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.booking.admin_helpers import change_url, confirm
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


def test_the_history_page_shows_user_reason_ip_user_agent_and_changes(desk, booking):
    confirm(desk, "cancel_bookings", [booking], reason="Instructor ill")

    response = desk.get(reverse("admin:booking_bookingrequest_history", args=[booking.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    for expected in ["desk", "Instructor ill", "203.0.113.7", "pytest-browser/1.0"]:
        assert expected in content
    assert "<strong>Status:</strong> Pending&nbsp;&rarr;&nbsp;Cancelled" in content


def test_history_pages_need_the_view_permission(client, business, booking):
    no_booking_perms = make_staff(businesses=(business,), permissions=[])
    client.force_login(no_booking_perms)

    response = client.get(reverse("admin:booking_bookingrequest_history", args=[booking.pk]))

    assert response.status_code in (403, 404)


def test_the_change_form_shows_a_compact_timeline(desk, booking):
    confirm(desk, "soft_delete_bookings", [booking], reason="Duplicate entry")
    confirm(desk, "restore_bookings", [booking], url="/admin/booking/bookingrequest/?deleted=yes")

    response = desk.get(change_url(booking))

    timeline = response.context["timeline"]
    assert [entry.what for entry in timeline] == ["Restored", "Deleted", "Created"]
    assert timeline[1].reason == "Duplicate entry"
    assert str(timeline[1].user) == "desk"
    assert timeline[1].fields == []  # the deletion fields go with the event
    assert 'id="booking-timeline"' in response.content.decode()


def test_the_version_page_is_read_only(desk, booking):
    record = booking.history.latest()
    url = reverse("admin:booking_bookingrequest_simple_history", args=[booking.pk, record.pk])

    response = desk.get(url)

    assert response.status_code == 200
    assert not response.context["adminform"].form.fields  # every field is read only
    assert 'value="Revert"' not in response.content.decode()


@pytest.mark.parametrize("version", ["abc", "²", "9" * 25])
def test_a_version_that_is_not_an_id_is_not_found(desk, booking, version):
    url = f"/admin/booking/bookingrequest/{booking.pk}/history/{version}/"

    assert desk.get(url).status_code == 404


CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


def history_rows(response) -> list[str]:
    content = response.content.decode()
    body = content[content.index("<tbody>") : content.index("</tbody>")]
    return body.split("<tr>")[1:]


def test_the_history_list_names_soft_delete_and_restore(desk, booking):
    confirm(desk, "soft_delete_bookings", [booking], reason="Duplicate entry")
    confirm(desk, "restore_bookings", [booking], url="/admin/booking/bookingrequest/?deleted=yes")

    response = desk.get(reverse("admin:booking_bookingrequest_history", args=[booking.pk]))

    actions = [row.split("<td>")[1].split("</td>")[0] for row in history_rows(response)]
    assert actions == ["Restored", "Deleted", "Created"]


def test_the_history_list_shows_a_short_user_agent_with_the_full_one_on_hover(desk, booking):
    desk.post(
        "/admin/booking/bookingrequest/",
        {
            "action": "cancel_bookings",
            "_selected_action": [booking.pk],
            "post": "yes",
            "reason": "Ill",
            "notify_client": "on",
        },
        HTTP_USER_AGENT=CHROME_UA,
    )

    response = desk.get(reverse("admin:booking_bookingrequest_history", args=[booking.pk]))

    content = response.content.decode()
    assert f'title="{CHROME_UA}">Chrome 156 on Linux</span>' in content


def test_a_purged_bookings_history_keeps_a_working_breadcrumb(desk, booking):
    confirm(desk, "purge_bookings", [booking], reason="Erasure", confirmation="PURGE")
    url = reverse("admin:booking_bookingrequest_history", args=[booking.pk])

    response = desk.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    breadcrumbs = content[content.index('class="breadcrumbs"') : content.index("</ol>")]
    assert change_url(booking) not in breadcrumbs
    assert "(purged)" in breadcrumbs
    assert "Purged" in history_rows(response)[0]
    for link in ["/admin/", "/admin/booking/", "/admin/booking/bookingrequest/"]:
        assert desk.get(link).status_code == 200
    version = booking.history.latest()
    page = desk.get(
        reverse("admin:booking_bookingrequest_simple_history", args=[booking.pk, version.pk])
    )
    assert page.status_code == 200
    crumbs = page.content.decode().split('class="breadcrumbs"')[1].split("</ol>")[0]
    assert change_url(booking) not in crumbs
    assert url in crumbs
