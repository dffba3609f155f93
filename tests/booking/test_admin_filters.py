"""Change-list filters are never silently ignored: a filter given is applied (a value the
user may not see gives an empty list), values that cannot be used are a 400, never
Django's "?e=1" list of everything, and "select all", the export and the actions act
exactly on what the filtered list shows. Staff of one business, a second business beside."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from booking.models import BookingRequest, BookingStatus
from tests.booking.admin_helpers import CHANGELIST, confirm
from tests.booking.test_export_admin import EXPORT_URL, export, references
from tests.factories import make_booking, make_session, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mine(business):
    session = make_session(business=business)
    return [make_booking(session=session, client_email=f"m{i}@example.com") for i in range(3)]


@pytest.fixture
def theirs(other_business):
    return make_booking(session=make_session(business=other_business), client_email="t@x.test")


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


def listed(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    return {b.reference for b in response.context["cl"].result_list}


def test_another_business_filter_gives_an_empty_list_not_everything(desk, mine, theirs):
    response = desk.get(f"{CHANGELIST}?session__business__id__exact={theirs.session.business_id}")
    assert listed(response) == set()
    assert response.context["cl"].result_count == 0


def test_an_unknown_business_id_gives_an_empty_list(desk, mine):
    assert listed(desk.get(f"{CHANGELIST}?session__business__id__exact=999999")) == set()


def test_the_own_business_filter_still_works_when_it_is_the_only_choice(desk, mine, business):
    response = desk.get(f"{CHANGELIST}?session__business__id__exact={business.pk}")
    assert listed(response) == {b.reference for b in mine}


def test_select_all_under_another_business_filter_acts_on_nothing(desk, mine, theirs):
    query = f"?session__business__id__exact={theirs.session.business_id}"
    response = confirm(
        desk, "cancel_bookings", mine[:1], url=CHANGELIST + query, reason="x", select_across="1"
    )
    assert response.status_code in (200, 302)
    assert set(BookingRequest.objects.values_list("status", flat=True)) == {BookingStatus.PENDING}


def test_select_all_acts_exactly_on_the_filtered_list(desk, mine, business):
    BookingRequest.objects.filter(pk=mine[0].pk).update(status=BookingStatus.APPROVED)
    query = "?status__exact=approved"
    confirm(desk, "cancel_bookings", mine[:1], url=CHANGELIST + query, reason="x",
            select_across="1")  # fmt: skip
    statuses = dict(BookingRequest.objects.values_list("pk", "status"))
    assert statuses == {
        mine[0].pk: BookingStatus.CANCELLED,
        mine[1].pk: BookingStatus.PENDING,
        mine[2].pk: BookingStatus.PENDING,
    }


def test_the_export_under_another_business_filter_exports_nothing(desk, mine, theirs):
    query = f"?session__business__id__exact={theirs.session.business_id}"
    assert references(export(desk, url=EXPORT_URL + query)) == []
    everything = references(export(desk))
    assert everything == sorted(b.reference for b in mine)


def test_an_unknown_status_gives_an_empty_list(desk, mine):
    assert listed(desk.get(f"{CHANGELIST}?status__exact=bogus")) == set()


@pytest.mark.parametrize(
    "query",
    [
        "?status__exact=%00",
        "?session__business__id__exact=1%00",
        "?deleted=%00",
        "?q=a&x%00=1",
        "?nonsense=1",
        "?session__starts_at__gte=not-a-date",
        "?session__starts_at__year=9999",
        "?session__starts_at__year=9998&session__starts_at__month=13",
        "?session__starts_at__year=99999999999",
    ],
)
def test_unusable_filters_are_a_400_not_everything(desk, mine, query):
    response = desk.get(CHANGELIST + query)
    assert response.status_code == 400, (response.status_code, response.get("Location"))


def test_a_year_of_9998_is_an_empty_list(desk, mine):
    assert listed(desk.get(f"{CHANGELIST}?session__starts_at__year=9998")) == set()


def test_an_action_posted_with_unusable_filters_changes_nothing(desk, mine):
    response = confirm(desk, "cancel_bookings", mine[:1], url=CHANGELIST + "?nonsense=1",
                       reason="x", select_across="1")  # fmt: skip
    assert response.status_code == 400
    assert set(BookingRequest.objects.values_list("status", flat=True)) == {BookingStatus.PENDING}


def test_the_export_with_unusable_filters_is_a_400(desk, mine):
    response = desk.post(EXPORT_URL + "?status__exact=%00", {"format": "0", "resource": "0"})
    assert response.status_code == 400


def test_a_nul_in_the_search_is_a_400(desk, mine):
    assert desk.get(f"{CHANGELIST}?q=m0%00").status_code == 400


def test_a_nul_in_an_autocomplete_term_finds_nothing(client, superuser, mine):
    client.force_login(superuser)
    response = client.get(
        "/admin/autocomplete/",
        {"term": "Busi\x00", "app_label": "booking", "model_name": "session",
         "field_name": "business"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_outbox_list_applies_a_business_filter_it_does_not_show(client, business, theirs):
    clerk = make_staff(businesses=(business,), permissions=["view_outboxemail"])
    client.force_login(clerk)
    response = client.get(f"/admin/booking/outboxemail/?business__id__exact={theirs.pk + 10**6}")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("value", ["9999", "yes", "true"])
def test_select_across_is_0_or_1_never_any_truthy_value(desk, mine, value):
    """Django's form reads any such value as "all rows"; a crafted POST cancelled everything."""
    response = confirm(desk, "cancel_bookings", mine[:1], reason="x", select_across=value)
    assert response.status_code == 400
    assert set(BookingRequest.objects.values_list("status", flat=True)) == {BookingStatus.PENDING}
