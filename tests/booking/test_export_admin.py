"""The export button and action of the real booking admin (BookingRequestAdmin).

Button: /admin/booking/bookingrequest/export/ with the change list's query
string. Action: `export_admin_action` on the change list. Both export the
admin's queryset: its filters (the `deleted` state included), search and the
user's business scope.
"""

import csv
import io
import json
import warnings

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone
from django.utils.deprecation import RemovedInDjango2028Warning
from openpyxl import load_workbook

from booking.exports.models import ExportJob
from booking.exports.resources import AuditResource, BookingResource
from tests.booking.admin_helpers import CHANGELIST, change_url
from tests.factories import make_booking, make_session, make_staff

EXPORT_URL = "/admin/booking/bookingrequest/export/"
FORMATS = ["CSV", "XLSX", "JSON"]
RESOURCES = [BookingResource, AuditResource]


@pytest.fixture
def data(session, other_business):
    """Two live bookings and a soft-deleted one in the staff's business; one elsewhere."""
    approved = make_booking(
        session=session, client_name="Ada", client_email="ada@example.com", status="approved"
    )
    pending = make_booking(session=session, client_name="=1+1", client_email="bob@example.com")
    deleted = make_booking(
        session=session,
        client_name="Carol",
        client_email="carol@example.com",
        is_deleted=True,
        deleted_at=timezone.now(),
    )
    foreign = make_booking(
        session=make_session(business=other_business), client_email="zed@example.com"
    )
    return {"approved": approved, "pending": pending, "deleted": deleted, "foreign": foreign}


@pytest.fixture
def desk(client, staff):
    client.force_login(staff)
    return client


def _fields(resource=0):
    """The export form's field checkboxes, all ticked (as the browser sends them by default)."""
    cls = RESOURCES[resource]
    return {f"{cls.__name__.lower()}_{name}": "on" for name in cls.fields}


def _body(response):
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


def export(client, url=EXPORT_URL, fmt="CSV", resource=0, fields=None, **extra):
    data = {
        "format": str(FORMATS.index(fmt)),
        "resource": str(resource),
        **(_fields(resource) if fields is None else fields),
        **extra,
    }
    return _body(client.post(url, data))


def references(body):
    return sorted(row["Reference"] for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def refs(*bookings):
    return sorted(b.reference for b in bookings)


def action_choices(client):
    response = client.get(CHANGELIST)
    return {name for name, _ in response.context["action_form"].fields["action"].choices if name}


# --- The button ---------------------------------------------------------------------


def test_button_exports_the_live_bookings_of_my_business_as_csv(desk, data):
    rows = list(csv.DictReader(io.StringIO(export(desk).decode("utf-8-sig"))))
    assert sorted(row["Reference"] for row in rows) == refs(data["approved"], data["pending"])
    assert {row["Client name"] for row in rows} == {"Ada", "'=1+1"}  # formula escaped


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["approved", "pending"]),
        ("?deleted=yes", ["deleted"]),
        ("?deleted=all", ["approved", "pending", "deleted"]),
        ("?status__exact=approved", ["approved"]),
        ("?deleted=all&status__exact=pending", ["pending", "deleted"]),
        ("?q=carol%40example.com&deleted=all", ["deleted"]),
    ],
)
def test_button_respects_the_change_list_filters_and_search(desk, data, query, expected):
    body = export(desk, EXPORT_URL + query)
    assert references(body) == refs(*(data[name] for name in expected))


@pytest.mark.parametrize("query", ["?bogus=1", "?status__exact=pending&session__starts_at__gte=x"])
def test_filters_the_change_list_would_refuse_are_a_bad_request(desk, data, query):
    assert desk.get(EXPORT_URL + query).status_code == 400
    assert desk.post(EXPORT_URL + query, {"format": "0", "resource": "0"}).status_code == 400


def test_superuser_exports_every_business(client, superuser, data):
    client.force_login(superuser)
    body = export(client, EXPORT_URL + "?deleted=all")
    assert references(body) == refs(*data.values())


def test_staff_of_the_other_business_export_only_theirs(client, other_business, data):
    theirs = make_staff(username="other-desk", businesses=(other_business,))
    client.force_login(theirs)
    assert references(export(client, EXPORT_URL + "?deleted=all")) == refs(data["foreign"])


def test_button_exports_xlsx_and_json(desk, data):
    sheet = load_workbook(io.BytesIO(export(desk, fmt="XLSX"))).active
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    column = header.index("Reference")
    exported = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(exported) == refs(data["approved"], data["pending"])

    records = json.loads(export(desk, fmt="JSON", resource=1))  # the audit trail
    assert {r["reference"] for r in records} == {
        data["approved"].reference,
        data["pending"].reference,
    }
    assert {"status_before", "status_after", "user", "reason", "ip_address"} <= set(records[0])


def test_button_honours_the_chosen_fields(desk, data):
    body = export(desk, fields={"bookingresource_reference": "on", "bookingresource_status": "on"})
    assert next(csv.reader(io.StringIO(body.decode("utf-8-sig")))) == ["Reference", "Status"]


def test_large_export_from_the_button_becomes_a_job(desk, data, settings, staff):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    response = desk.post(
        EXPORT_URL + "?deleted=all",
        {"format": "1", "resource": "0", "bookingresource_reference": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("booking_exports:jobs")
    job = ExportJob.objects.get()
    assert (job.owner, job.format, job.columns) == (staff, "xlsx", ["reference"])
    assert sorted(job.selection) == sorted(
        b.pk for b in (data["approved"], data["pending"], data["deleted"])
    )


# --- The action ---------------------------------------------------------------------


def test_action_on_a_page_selection_exports_only_the_selected(desk, data):
    chosen, foreign = data["approved"], data["foreign"]
    form = desk.post(
        CHANGELIST,
        {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [chosen.pk, foreign.pk]},
    )
    assert form.status_code == 200
    assert form.context["form"].initial["export_items"] == [chosen.pk]  # scoped
    body = export(desk, form.context["export_url"], export_items=[chosen.pk])
    assert references(body) == refs(chosen)


def test_action_keeps_the_deleted_filter(desk, data):
    deleted = data["deleted"]
    form = desk.post(
        CHANGELIST + "?deleted=yes",
        {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [deleted.pk]},
    )
    assert form.context["export_url"] == EXPORT_URL + "?deleted=yes"
    assert form.context["form"].initial["export_items"] == [deleted.pk]
    body = export(desk, form.context["export_url"], export_items=[deleted.pk])
    assert references(body) == refs(deleted)


def test_action_cannot_smuggle_another_business_booking(desk, data):
    body = export(desk, EXPORT_URL + "?deleted=all", export_items=[data["foreign"].pk])
    assert data["foreign"].reference.encode() not in body


def test_action_across_all_results_goes_to_the_button_page_with_the_filters(desk, data):
    response = desk.post(
        CHANGELIST + "?deleted=all&status__exact=pending",
        {
            "action": "export_admin_action",
            ACTION_CHECKBOX_NAME: [data["pending"].pk],
            "select_across": "1",
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    assert url == EXPORT_URL + "?deleted=all&status__exact=pending"
    # The page posts no ids: the filters give the queryset again.
    assert references(export(desk, url)) == refs(data["pending"], data["deleted"])


# --- Permission -----------------------------------------------------------------------


@pytest.fixture
def clerk(client, business):
    """Staff of the business who may view and cancel, not export."""
    user = make_staff(
        username="clerk",
        businesses=(business,),
        permissions=["view_bookingrequest", "cancel_bookingrequest"],
    )
    client.force_login(user)
    return client


def test_without_the_permission_the_button_is_refused_and_hidden(clerk, data):
    assert clerk.get(EXPORT_URL).status_code == 403
    assert clerk.post(EXPORT_URL, {"format": "0", "resource": "0", **_fields()}).status_code == 403
    page = clerk.get(CHANGELIST).content.decode()
    assert EXPORT_URL not in page
    assert reverse("booking_exports:jobs") not in page


def test_without_the_permission_the_action_is_not_offered_and_does_nothing(clerk, data):
    assert action_choices(clerk) == {"cancel_bookings"}
    response = clerk.post(
        CHANGELIST, {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [data["approved"].pk]}
    )
    # Not a valid choice: Django redirects back to the list, with no file and no form.
    assert response.status_code == 302
    assert "export_url" not in (response.context or {})


def test_with_the_permission_the_action_is_offered(desk, data):
    assert "export_admin_action" in action_choices(desk)


# --- The change list and the change form ----------------------------------------------


def test_change_list_links_to_the_export_with_its_filters_and_to_the_pages(desk, data):
    page = desk.get(CHANGELIST + "?deleted=yes").content.decode()
    assert f'href="{EXPORT_URL}?deleted=yes"' in page
    assert f'href="{reverse("booking_exports:jobs")}"' in page
    assert f'href="{reverse("booking_exports:cancellation_report")}"' in page
    assert "booking-badge" in page  # the booking admin's own change list template


def test_admin_index_lists_the_report_and_my_exports(desk):
    desk_page = desk.get(reverse("admin:index")).content.decode()
    assert 'id="booking-reports-module"' in desk_page
    assert reverse("booking_exports:jobs") in desk_page
    app_page = desk.get(reverse("admin:app_list", args=["booking"])).content.decode()
    assert reverse("booking_exports:cancellation_report") in app_page


def test_admin_index_hides_what_the_user_may_not_open(client, business):
    viewer = make_staff(username="viewer", businesses=(business,), permissions=[])
    client.force_login(viewer)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="booking-reports-module"' not in page


def test_no_deprecated_get_actions_and_change_form_actions_survive(desk, data):
    """import-export's get_actions(request) lacks Django 6.1's action_location: were it
    called, Django would warn and drop every change-form action."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        desk.get(CHANGELIST)
        form = desk.get(change_url(data["approved"]))
    assert not [w for w in caught if issubclass(w.category, RemovedInDjango2028Warning)]
    choices = {name for name, _ in form.context["action_form"].fields["action"].choices if name}
    assert "cancel_bookings" in choices and "export_admin_action" not in choices
    page = form.content.decode()
    assert 'name="_export-item"' not in page  # import-export's save-then-export button
    assert 'id="booking-timeline"' in page  # the booking admin's own change form template


def test_my_exports_page_says_how_long_files_are_kept(desk, settings):
    settings.EXPORT_RETENTION_DAYS = 3
    page = desk.get(reverse("booking_exports:jobs")).content.decode()
    assert "they are deleted 3 days after they were asked for" in page


# --- The export page ----------------------------------------------------------------


def test_export_page_says_which_filters_apply_and_how_many_bookings_match(desk, data):
    page = desk.get(EXPORT_URL + "?status__exact=pending&deleted=all&q=example.com")
    assert page.status_code == 200
    assert page.context["export_count"] == 2
    assert page.context["export_filters"] == [
        ("Status", "Pending"),
        ("Deletion state", "Live and deleted"),
        ("Search", "example.com"),
    ]
    html = page.content.decode()
    assert "<strong>2 bookings</strong> match" in html
    assert "Deletion state: <strong>Live and deleted</strong>" in html


def test_export_page_without_filters_still_says_only_live_bookings(desk, data):
    page = desk.get(EXPORT_URL)
    assert page.context["export_count"] == 2
    assert page.context["export_filters"] == [("Deletion state", "Live")]


def test_export_page_says_a_large_export_runs_in_the_background(desk, data, settings):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    html = desk.get(EXPORT_URL).content.decode()
    assert "prepared in the background" in html


def test_export_form_labels_fields_by_their_column_and_offers_csv_first(desk, data):
    form = desk.get(EXPORT_URL).context["form"]
    assert form.fields["bookingresource_session_starts_at"].label == "Session starts at (UTC)"
    assert form.fields["auditresource_at"].label == "Changed at (UTC)"
    assert form.fields["resource"].choices == [(0, "Bookings"), (1, "Audit trail")]
    assert form.fields["format"].choices == [("0", "CSV"), ("1", "Excel (XLSX)"), ("2", "JSON")]
    assert form["format"].value() == "0"


def test_action_page_counts_the_ticked_bookings(desk, data):
    form = desk.post(
        CHANGELIST,
        {"action": "export_admin_action", ACTION_CHECKBOX_NAME: [data["approved"].pk]},
    )
    assert "The 1 booking you ticked" in form.content.decode()
