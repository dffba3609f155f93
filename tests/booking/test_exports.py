"""Exports: content per format, formula escaping, tenant scope, streaming, background jobs."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from booking import services
from booking.exports import service
from booking.exports.jobs import run_job
from booking.exports.models import ExportJob
from booking.exports.resources import AuditResource, BookingResource, rendered_rows
from booking.exports.tasks import run_export_job
from booking.exports.writers import csv_chunks, escape_formula
from booking.models import BookingRequest
from tests.factories import make_booking, make_session, make_staff

START = datetime(2030, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Job files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+44 7700 900123", "'+44 7700 900123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Ada = Lovelace", "Ada = Lovelace"),
        ("", ""),
        (-2, -2),
        (3.5, 3.5),
        (True, True),
        (None, None),
    ],
)
def test_csv_escape_prefixes_formula_triggers_and_keeps_numbers(value, expected):
    assert escape_formula(value) == expected


def test_csv_escapes_text_cells_only():
    text = "".join(csv_chunks(["a", "b", "c", "d"], [["=1+1", -3, 2.5, "+44 1"]]))
    assert text == "\ufeffa,b,c,d\r\n'=1+1,-3,2.5,'+44 1\r\n"


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def evil(business, staff):
    session = make_session(business=business, starts_at=START, title="@Spin")
    booking = make_booking(
        session=session,
        status="approved",
        client_name='=HYPERLINK("http://x")',
        client_email="ada@example.com",
        client_phone="+44 7700 900123",
    )
    services.cancel_bookings(booking, actor=staff, reason="-ill\tagain")
    return BookingRequest.objects.get(pk=booking.pk)


@pytest.fixture
def foreign(other_business):
    session = make_session(business=other_business, starts_at=START, title="Other class")
    return make_booking(session=session, client_email="bob@other.example")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _export(client, **data):
    data = {"table": "bookings", "format": "csv", "business": "", **data}
    response = client.post(reverse("booking_exports:new"), data)
    assert response.status_code == 200, response.content[:500]
    return response


def _body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _csv(response):
    return list(csv.DictReader(io.StringIO(_body(response).decode("utf-8-sig"))))


# ---------------------------------------------------------------- formats


def test_csv_has_every_booking_column_escaped(staff_client, evil, foreign):
    response = _export(staff_client, format="csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="bookings-' in response["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["Reference"] == evil.reference
    assert row["Business"] == "Johnny Bravo Fitness Center"
    assert row["Session"] == "'@Spin"
    assert row["Session starts at (UTC)"] == "2030-03-04T09:30:00+00:00"
    assert row["Client name"] == '\'=HYPERLINK("http://x")'
    assert row["Client phone"] == "'+44 7700 900123"
    assert row["Status"] == "Cancelled"
    assert row["Cancelled by"] == "desk"
    assert row["Cancelled by client"] == "False"
    assert row["Cancellation reason"] == "'-ill\tagain"
    assert row["Deleted"] == "False"
    assert (row["Fee amount"], row["Fee status"]) == ("0.00", "No fee")
    assert row["ID"] == str(evil.pk)


def test_xlsx_writes_text_as_strings_numbers_and_dates_native(staff_client, evil):
    response = _export(staff_client, format="xlsx")
    sheet = load_workbook(io.BytesIO(_body(response))).active
    header, row = list(sheet.iter_rows())
    cells = {title.value: cell for title, cell in zip(header, row, strict=True)}
    assert cells["ID"].value == evil.pk  # a number, not "1"
    assert cells["ID"].data_type == "n"
    assert cells["Session starts at (UTC)"].value == datetime(2030, 3, 4, 9, 30)
    assert cells["Session starts at (UTC)"].is_date
    # Text is written as typed, in string cells: never a formula, never escaped.
    assert cells["Client name"].value == '=HYPERLINK("http://x")'
    assert cells["Client name"].data_type == "s"
    assert cells["Session"].value == "@Spin"
    assert cells["Cancellation reason"].value == "-ill\tagain"
    assert cells["Client phone"].value == "'+44 7700 900123"
    assert cells["Cancelled by client"].value is False
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_xlsx_columns_are_wide_enough_to_read(staff_client, evil):
    sheet = load_workbook(io.BytesIO(_body(_export(staff_client, format="xlsx")))).active
    header = next(sheet.iter_rows(max_row=1))
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in header}
    assert widths["Session starts at (UTC)"] >= len("Session starts at (UTC)")
    assert widths["Client email"] >= len("ada@example.com")
    assert all(8 <= width <= 60 for width in widths.values())
    assert header[0].font.b  # a bold header row
    assert sheet.freeze_panes == "A2"


def test_json_is_an_array_of_objects_with_native_numbers(staff_client, evil):
    response = _export(staff_client, format="json")
    data = json.loads(_body(response))
    assert data == [
        {
            "id": evil.pk,
            "reference": evil.reference,
            "business": "Johnny Bravo Fitness Center",
            "business_slug": "johnny-bravo-fitness-center",
            "session_title": "@Spin",
            "session_starts_at": "2030-03-04T09:30:00+00:00",
            "session_status": "Scheduled",
            "client_name": '=HYPERLINK("http://x")',
            "client_email": "ada@example.com",
            "client_phone": "'+44 7700 900123",
            "status": "Cancelled",
            "created_at": evil.created_at.isoformat(),
            "updated_at": evil.updated_at.isoformat(),
            "cancelled_at": evil.cancelled_at.isoformat(),
            "cancelled_by": "desk",
            "cancelled_by_client": False,
            "cancellation_reason": "-ill\tagain",
            "is_deleted": False,
            "deleted_at": None,
            "deleted_by": "",
            "deletion_reason": "",
            "fee_amount": 0.0,  # a staff cancellation without charge_fee: no fee, decided
            "fee_status": "No fee",
        }
    ]


def test_audit_export_has_user_reason_origin_and_status_before_and_after(staff_client, evil, staff):
    services.soft_delete_bookings(evil, actor=staff, reason="duplicate")
    response = _export(staff_client, table="audit", format="json")
    records = json.loads(_body(response))
    assert [(r["change"], r["status_before"], r["status_after"]) for r in records] == [
        ("created", "", "Approved"),
        ("changed", "Approved", "Cancelled"),
        ("changed", "Cancelled", "Cancelled"),
    ]
    assert records[1]["user"] == "desk"
    assert records[1]["reason"] == "-ill\tagain"  # JSON is never altered
    assert records[2]["reason"] == "duplicate"
    assert records[2]["is_deleted"] is True
    assert all(r["reference"] == evil.reference for r in records)


def test_sessions_export_counts_live_bookings_and_cancellations(staff_client, evil):
    make_booking(session=evil.session, client_email="c@example.com")
    make_booking(session=evil.session, client_email="d@example.com", is_deleted=True)
    response = _export(staff_client, table="sessions", format="json")
    [session] = json.loads(_body(response))
    assert (session["title"], session["bookings"], session["cancellations"]) == ("@Spin", 2, 1)


# ---------------------------------------------------------------- scope and filters


def test_export_is_scoped_to_the_users_businesses(staff_client, evil, foreign):
    for table in ("bookings", "audit", "sessions"):
        body = _body(_export(staff_client, table=table, format="json")).decode()
        assert "Other" not in body, table
        assert foreign.reference not in body


def test_export_refuses_another_business_as_a_filter(staff_client, foreign):
    response = staff_client.post(
        reverse("booking_exports:new"),
        {"table": "bookings", "format": "csv", "business": "other-studio"},
    )
    assert response.status_code == 400


def test_soft_deleted_bookings_only_when_asked(staff_client, evil, session):
    hidden = make_booking(session=session, is_deleted=True)
    assert hidden.reference not in _body(_export(staff_client)).decode()
    with_deleted = _body(_export(staff_client, include_deleted="on")).decode()
    assert hidden.reference in with_deleted


def test_superuser_exports_every_business(client, superuser, evil, foreign):
    client.force_login(superuser)
    body = _body(_export(client)).decode()
    assert evil.reference in body and foreign.reference in body


def test_export_needs_the_export_permission(client, business):
    clerk = make_staff(businesses=(business,), permissions=["view_bookingrequest"])
    client.force_login(clerk)
    response = client.post(reverse("booking_exports:new"), {"table": "bookings", "format": "csv"})
    assert response.status_code == 403
    assert client.get(reverse("booking_exports:jobs")).status_code == 403


def test_export_pages_need_an_admin_login(client):
    response = client.get(reverse("booking_exports:jobs"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# ---------------------------------------------------------------- streaming


def rendered(resource, queryset):
    return rendered_rows(resource, queryset, fields=None, native=False)


def test_streaming_makes_the_same_number_of_queries_for_more_rows(
    staff_client, session, django_assert_max_num_queries
):
    for n in range(30):
        make_booking(session=session, client_email=f"c{n}@example.com")
    queryset = BookingRequest.objects.all()

    def queries_for_export():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            rows = list(rendered(BookingResource(), queryset))
            audit = list(rendered(AuditResource(), queryset))
        return len(captured), len(rows), len(audit)

    few = queries_for_export()
    for n in range(30, 90):
        make_booking(session=session, client_email=f"c{n}@example.com")
    many = queries_for_export()
    assert few[0] == many[0] == 2
    assert (few[1], many[1]) == (30, 90)


def test_csv_response_streams(staff_client, evil):
    response = _export(staff_client)
    assert response.streaming


# ---------------------------------------------------------------- background jobs


@pytest.fixture
def small_stream_limit(settings):
    settings.EXPORT_STREAM_MAX_ROWS = 2


def test_large_export_becomes_a_job_on_the_exports_queue(
    staff_client, staff, session, foreign, small_stream_limit
):
    bookings = [make_booking(session=session, client_email=f"c{n}@example.com") for n in range(3)]
    response = staff_client.post(
        reverse("booking_exports:new"), {"table": "bookings", "format": "xlsx"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("booking_exports:jobs")
    job = ExportJob.objects.get()
    assert job.owner == staff
    assert job.status == ExportJob.Status.PENDING
    assert job.selection == sorted(b.pk for b in bookings)
    task = DBTaskResult.objects.get()
    assert task.queue_name == "exports"
    assert task.args_kwargs["args"] == [job.pk]

    assert run_export_job.call(job.pk) == 3
    job.refresh_from_db()
    assert job.is_ready and job.row_count == 3
    download = staff_client.get(reverse("booking_exports:download", args=[job.pk]))
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    references = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert references == [b.reference for b in bookings]
    jobs_page = staff_client.get(reverse("booking_exports:jobs"))
    assert reverse("booking_exports:download", args=[job.pk]) in jobs_page.content.decode()


def test_job_applies_its_owners_scope_when_it_runs(staff, session, foreign):
    mine = make_booking(session=session)
    job = ExportJob.objects.create(
        owner=staff, table="audit", format="csv", selection=[mine.pk, foreign.pk]
    )
    run_job(job)
    body = job.file.open("rb").read().decode()
    assert mine.reference in body and foreign.reference not in body


def test_jobs_are_visible_and_downloadable_by_their_owner_only(client, staff, business, session):
    job = ExportJob.objects.create(owner=staff, table="bookings", format="csv", selection=[])
    run_job(job)
    colleague = make_staff(businesses=(business,))
    client.force_login(colleague)
    assert client.get(reverse("booking_exports:download", args=[job.pk])).status_code == 404
    page = client.get(reverse("booking_exports:jobs")).content.decode()
    assert "My exports" in page and f"<td>{job.pk}</td>" not in page


def test_failed_job_is_marked_failed(staff):
    job = ExportJob.objects.create(owner=staff, table="nope", format="csv")
    with pytest.raises(KeyError):
        run_export_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "KeyError" in job.error


def test_unfinished_job_cannot_be_downloaded(staff_client, staff):
    job = ExportJob.objects.create(owner=staff, table="bookings", format="csv")
    assert staff_client.get(reverse("booking_exports:download", args=[job.pk])).status_code == 404


def test_timestamps_are_exported_in_utc(staff_client, business, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    session = make_session(business=business, starts_at=START)
    make_booking(session=session, created_at=timezone.now() - timedelta(days=1))
    [row] = json.loads(_body(_export(staff_client, format="json")))
    assert row["session_starts_at"] == "2030-03-04T09:30:00+00:00"


def test_a_finished_job_cannot_be_downloaded_after_leaving_the_business(
    staff_client, staff, business, session
):
    booking = make_booking(session=session)
    job = ExportJob.objects.create(
        owner=staff, table="bookings", format="csv", selection=[booking.pk]
    )
    run_job(job)
    url = reverse("booking_exports:download", args=[job.pk])
    assert staff_client.get(url).status_code == 200

    business.staff.remove(staff)

    assert staff_client.get(url).status_code == 404


# ---------------------------------------------------------------- data kept intact


@pytest.mark.parametrize("typed", ["+44 7700 900123", "07700 900123", "(555) 010-2000"])
def test_every_phone_number_gains_a_leading_apostrophe_in_every_format(
    staff_client, session, typed
):
    make_booking(session=session, client_phone=typed)
    [row] = _csv(_export(staff_client, format="csv"))
    assert row["Client phone"] == f"'{typed}"
    [record] = json.loads(_body(_export(staff_client, format="json")))
    assert record["client_phone"] == f"'{typed}"
    sheet = load_workbook(io.BytesIO(_body(_export(staff_client, format="xlsx")))).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert row[header.index("Client phone")] == f"'{typed}"


def test_headers_say_utc_once_for_every_time(staff_client, evil):
    for table in ("bookings", "audit", "sessions"):
        header = list(_csv(_export(staff_client, table=table))[0])
        times = [title for title in header if "UTC" in title]
        assert times
        assert all(title.endswith(" (UTC)") and title.count("UTC") == 1 for title in times)


def test_xlsx_keeps_characters_xml_cannot_hold(staff_client, session):
    """XML 1.0 cannot hold most control characters: OOXML writes them `_x0007_`,
    which Excel reads back as the character (openpyxl leaves the escape to its caller)."""
    make_booking(session=session, client_name="Bell\x07 Ringer")
    sheet = load_workbook(io.BytesIO(_body(_export(staff_client, format="xlsx")))).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert unescape(row[header.index("Client name")]) == "Bell\x07 Ringer"


# ---------------------------------------------------------------- the service


def test_the_service_takes_a_user_a_selection_and_a_format(staff, evil, foreign):
    queryset = service.selection(staff, BookingResource)
    result = service.export(user=staff, queryset=queryset, fmt="json", fields=["reference"])
    assert isinstance(result, service.Download)
    assert result.filename.startswith("bookings-") and result.filename.endswith(".json")
    assert json.loads("".join(result.chunks)) == [{"reference": evil.reference}]


def test_large_audit_export_from_my_exports_remembers_the_bookings(
    staff_client, staff, evil, foreign, small_stream_limit
):
    services.soft_delete_bookings(evil, actor=staff, reason="duplicate")
    response = staff_client.post(
        reverse("booking_exports:new"), {"table": "audit", "format": "csv", "include_deleted": "on"}
    )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.selection == [evil.pk]  # the booking, not its three records' ids
    assert run_export_job.call(job.pk) == 3
    job.refresh_from_db()
    body = job.file.open("rb").read().decode("utf-8-sig")
    assert body.count(evil.reference) == 3 and foreign.reference not in body
