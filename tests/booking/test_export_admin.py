"""The export button and action through `StreamingExportMixin`, on a stand-in BookingRequestAdmin.

The real BookingRequestAdmin lives in booking/admin/; this module mounts a
minimal one on its own admin site (`pytest.mark.urls`) to test the mixin.
"""

import csv
import io
import json

import pytest
from django.contrib import admin
from django.urls import include, path, reverse
from import_export.admin import ExportActionMixin
from openpyxl import load_workbook

from booking.exports.admin import StreamingExportMixin
from booking.exports.models import ExportJob
from booking.exports.resources import AuditResource, BookingResource
from booking.models import BookingRequest
from tests.factories import make_booking, make_session


class StandInBookingAdmin(StreamingExportMixin, ExportActionMixin, admin.ModelAdmin):
    list_display = ["reference", "status"]
    list_filter = ["status"]

    def get_queryset(self, request):
        return BookingRequest.all_objects.for_user(request.user)


site = admin.AdminSite(name="admin")
site.register(BookingRequest, StandInBookingAdmin)

urlpatterns = [
    path("admin/booking/", include("booking.exports.urls")),
    path("admin/", site.urls),
]

pytestmark = pytest.mark.urls(__name__)

EXPORT_URL = "/admin/booking/bookingrequest/export/"
CHANGELIST = "/admin/booking/bookingrequest/"
FORMATS = ["CSV", "XLSX", "JSON"]


@pytest.fixture
def data(session, other_business):
    mine = [
        make_booking(session=session, client_email="a@example.com", status="approved"),
        make_booking(session=session, client_email="b@example.com", client_name="=1+1"),
    ]
    foreign = make_booking(session=make_session(business=other_business))
    return mine, foreign


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


RESOURCES = [BookingResource, AuditResource]


def _fields(resource=0):
    """The export form's field checkboxes, all ticked (as the browser sends them by default)."""
    cls = RESOURCES[resource]
    return {f"{cls.__name__.lower()}_{name}": "on" for name in cls.table.names}


def _post_export(client, url, fmt="CSV", resource=0, **extra):
    if not any(key.endswith(tuple(RESOURCES[resource].table.names)) for key in extra):
        extra = {**_fields(resource), **extra}
    data = {"format": str(FORMATS.index(fmt)), "resource": str(resource), **extra}
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_button_exports_the_filtered_scoped_queryset_as_csv(staff_client, data):
    mine, _foreign = data
    body = _post_export(staff_client, f"{EXPORT_URL}?status__exact=pending")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [row["Reference"] for row in rows] == [mine[1].reference]
    assert rows[0]["Client name"] == "'=1+1"


def test_button_exports_xlsx_and_json(staff_client, data):
    mine, _foreign = data
    sheet = load_workbook(io.BytesIO(_post_export(staff_client, EXPORT_URL, "XLSX"))).active
    refs = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert refs == {b.reference for b in mine}
    records = json.loads(_post_export(staff_client, EXPORT_URL, "JSON", resource=1))
    assert {r["reference"] for r in records} == {b.reference for b in mine}
    assert "status_before" in records[0]


def test_button_honours_the_chosen_fields(staff_client, data):
    body = _post_export(
        staff_client,
        EXPORT_URL,
        bookingresource_reference="on",
        bookingresource_status="on",
    )
    header = next(csv.reader(io.StringIO(body.decode())))
    assert header == ["Reference", "Status"]


def test_action_on_a_page_selection_exports_only_the_selected(staff_client, data):
    mine, foreign = data
    form = staff_client.post(
        CHANGELIST,
        {"action": "export_admin_action", "_selected_action": [mine[0].pk, foreign.pk]},
    )
    assert form.status_code == 200
    body = _post_export(staff_client, EXPORT_URL, export_items=[mine[0].pk])
    refs = [row["Reference"] for row in csv.DictReader(io.StringIO(body.decode()))]
    assert refs == [mine[0].reference]


def test_action_cannot_smuggle_another_business_booking(staff_client, data):
    _mine, foreign = data
    response = staff_client.post(
        EXPORT_URL, {"format": "0", "resource": "0", "export_items": [foreign.pk], **_fields()}
    )
    assert response.status_code == 200
    assert foreign.reference.encode() not in (
        b"".join(response.streaming_content) if response.streaming else response.content
    )


def test_action_across_all_results_goes_to_the_button_page_with_the_filters(staff_client, data):
    mine, _ = data
    response = staff_client.post(
        f"{CHANGELIST}?status__exact=approved",
        {"action": "export_admin_action", "_selected_action": [mine[0].pk], "select_across": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{EXPORT_URL}?status__exact=approved"


def test_large_export_from_the_button_becomes_a_job(staff_client, data, settings, staff):
    settings.EXPORT_STREAM_MAX_ROWS = 1
    response = staff_client.post(
        EXPORT_URL, {"format": "1", "resource": "0", "bookingresource_reference": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("booking_exports:jobs")
    job = ExportJob.objects.get()
    assert (job.owner, job.format, job.columns) == (staff, "xlsx", ["reference"])
    assert len(job.selection) == 2


def test_export_needs_the_permission(client, business, data):
    from tests.factories import make_staff

    clerk = make_staff(businesses=(business,), permissions=["view_bookingrequest"])
    client.force_login(clerk)
    response = client.post(EXPORT_URL, {"format": "0", "resource": "0", **_fields()})
    assert response.status_code == 403
