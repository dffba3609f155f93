"""Erasure: no table keeps the client's email, phone or name; the audit facts stay."""

import json
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services
from booking.audit import RequestContext
from booking.emails.models import EmailKind, EmailStatus, OutboxEmail
from booking.emails.outbox import sweep
from booking.exports.jobs import run_job
from booking.exports.models import ExportJob
from booking.models import BookingRequest
from booking.services import exceptions as exc
from booking.services.erasure import (
    DEFAULT_REASON,
    ERASED_NAME,
    NOT_SENT,
    ClientRef,
    erase_client_data,
    erase_clients,
)
from tests.booking.outbox_support import anymail_backend, rendered, run_email_tasks  # noqa: F401
from tests.factories import make_booking, make_session, owner_proof

CLIENT = RequestContext(ip_address="203.0.113.5", user_agent="Firefox (the client's)")
DESK = RequestContext(ip_address="198.51.100.7", user_agent="Desk browser")


@pytest.fixture
def ada(business, staff):
    """Ada's bookings: one cancelled by her then soft-deleted, one purged; Bob's mentions her."""
    session = make_session(business=business)
    first = make_booking(
        session=session,
        client_name="Ada Lovelace",
        client_email="ada@example.com",
        client_phone="+44 7700 900123",
    )
    services.cancel_booking_as_client(
        reference=first.reference,
        proof=owner_proof(first),
        reason="Call me on 07700 900123 or ada@example.com",
        context=CLIENT,
    )
    services.soft_delete_bookings(
        first, actor=staff, reason="Ada Lovelace asked by phone", context=DESK
    )
    purged = make_booking(
        session=session,
        client_name="Ada Lovelace",
        client_email="ADA@Example.com",
        client_phone="07700-900-123",
    )
    services.purge_bookings(purged, actor=staff, reason="duplicate", confirmed=True, context=DESK)
    bob = make_booking(
        session=session,
        client_name="Bob",
        client_email="bob@example.com",
        client_phone="0161 496 0000",
    )
    services.cancel_bookings(
        bob, actor=staff, reason="Duplicate of ADA@example.com's", context=DESK
    )
    carol = make_booking(
        session=session, client_name="Carol", client_email="carol@example.com", client_phone=""
    )
    # On a waitlist too, offered a free spot at once (an offer email names her).
    yoga = make_session(business=business, title="Yoga", capacity=1)
    services.waitlist.join(
        yoga, client_name="Ada Lovelace", client_email="Ada@example.com",
        client_phone="07700 900123", actor=None, context=CLIENT,
    )  # fmt: skip
    return {"first": first, "purged": purged, "bob": bob, "carol": carol}


def text_values():
    """Every value of every text or JSON column of every booking table, history included."""
    for model in apps.get_app_config("booking").get_models():
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if columns:
            for row in model._base_manager.values_list(*columns).iterator():
                yield from (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    for value in row
                    if value
                )


def assert_no_trace():
    for value in text_values():
        assert "ada@example.com" not in value.casefold(), value
        assert "lovelace" not in value.casefold(), value
        assert "7700900123" not in re.sub(r"\D", "", value), value


def history_facts(booking_id):
    return list(
        BookingRequest.history.filter(id=booking_id)
        .order_by("history_id")
        .values_list("history_type", "status", "is_deleted", "history_user_id", "history_date")
    )


def test_erasure_by_email_leaves_no_trace_in_any_table(ada, superuser):
    result = erase_client_data(email=" ada@EXAMPLE.com ", actor=superuser)
    assert result.booking_ids == sorted([ada["first"].pk, ada["purged"].pk])
    assert_no_trace()


def test_erasure_by_phone_finds_every_spelling(ada, superuser):
    result = erase_client_data(phone="0044 (7700) 900123", actor=None)
    assert result.booking_ids == sorted([ada["first"].pk, ada["purged"].pk])
    assert_no_trace()


def test_erasure_keeps_the_audit_facts_and_records_itself(ada, superuser, staff):
    first = ada["first"]
    before = history_facts(first.pk)
    purged_before = history_facts(ada["purged"].pk)

    erase_client_data(email="ada@example.com", actor=superuser, context=DESK)

    after = history_facts(first.pk)
    assert after[:-1] == before  # statuses, who and when are untouched
    assert history_facts(ada["purged"].pk) == purged_before
    erasure = BookingRequest.history.filter(id=first.pk).latest("history_id")
    assert erasure.history_user == superuser
    assert erasure.history_change_reason == DEFAULT_REASON
    assert erasure.ip_address == DESK.ip_address
    assert (erasure.status, erasure.is_deleted, erasure.client_name) == (
        "cancelled",
        True,
        ERASED_NAME,
    )

    records = BookingRequest.history.filter(id=first.pk).order_by("history_id")
    client_cancel, staff_delete = records[1], records[2]
    assert (client_cancel.ip_address, client_cancel.user_agent) == (None, "")
    assert client_cancel.history_change_reason == "Call me on 0[erased] or [erased]"
    assert staff_delete.ip_address == DESK.ip_address and staff_delete.history_user == staff
    assert staff_delete.history_change_reason == "[erased] asked by phone"

    first.refresh_from_db()
    assert (first.client_name, first.client_email, first.client_phone) == (ERASED_NAME, "", "")
    assert first.cancellation_reason == "Call me on 0[erased] or [erased]"
    assert first.deletion_reason == "[erased] asked by phone"
    assert first.status == "cancelled" and first.cancelled_by_client


def test_other_clients_keep_their_data_but_lose_mentions(ada, superuser):
    carol_history = history_facts(ada["carol"].pk)
    erase_client_data(email="ada@example.com", actor=superuser)
    bob = BookingRequest.objects.get(pk=ada["bob"].pk)
    assert (bob.client_name, bob.client_email) == ("Bob", "bob@example.com")
    assert bob.cancellation_reason == "Duplicate of [erased]'s"
    assert history_facts(ada["carol"].pk) == carol_history


def test_erasure_needs_a_superuser(ada, staff):
    with pytest.raises(exc.NotPermitted):
        erase_client_data(email="ada@example.com", actor=staff)
    assert BookingRequest.all_objects.filter(client_email="ada@example.com").exists()


@pytest.mark.parametrize(
    ("email", "phone"),
    [("", ""), ("a@example.com", "0123456789"), ("", "12-34")],
)
def test_erasure_refuses_bad_input(db, email, phone):
    with pytest.raises(exc.InvalidInput):
        erase_client_data(email=email, phone=phone, actor=None)


def test_dry_run_counts_and_changes_nothing(ada, superuser):
    before = list(BookingRequest.history.values_list("history_id", "client_email"))
    result = erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)
    assert result.dry_run and result.changed["bookings"] == 2  # Ada's and Bob's mention
    assert list(BookingRequest.history.values_list("history_id", "client_email")) == before


def test_a_dry_run_counts_exactly_what_the_erasure_then_changes(ada, superuser, staff, media_root):
    LogEntry.objects.log_actions(user_id=staff.pk, queryset=[ada["first"]], action_flag=CHANGE)
    finished_job(superuser, "bookings", [ada["first"]])
    dry = erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)
    real = erase_client_data(email="ada@example.com", actor=superuser)

    assert (dry.booking_ids, dry.changed) == (real.booking_ids, real.changed)
    assert all(real.changed.values())  # every step had something to do


def test_a_dry_run_only_reads_and_locks_nothing(ada, superuser):
    with CaptureQueriesContext(connection) as captured:
        erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)

    statements = [query["sql"].lstrip().upper() for query in captured]
    assert statements and all(sql.startswith("SELECT") for sql in statements), statements
    assert not any("FOR UPDATE" in sql for sql in statements)


def test_several_clients_are_erased_in_one_call(ada, superuser):
    results = erase_clients(
        [ClientRef(email="ada@example.com"), ClientRef(phone="0161 496 0000")], actor=superuser
    )

    assert [len(result.booking_ids) for result in results] == [2, 1]
    assert_no_trace()
    assert BookingRequest.objects.get(pk=ada["bob"].pk).client_phone == ""


def test_one_bad_client_in_a_bulk_call_erases_nobody(ada, superuser):
    with pytest.raises(exc.InvalidInput):
        erase_clients([ClientRef(email="ada@example.com"), ClientRef(phone="12")], actor=None)

    assert BookingRequest.all_objects.get(pk=ada["first"].pk).client_name == "Ada Lovelace"


def test_erasure_queries_are_batched(ada, superuser, business, django_assert_max_num_queries):
    session = make_session(business=business)
    for _ in range(40):
        make_booking(session=session, client_name="Ada Lovelace", client_email="ada@example.com")
    # 6 of them the waitlist's (find, lock, count the records, redact them, update, record).
    with django_assert_max_num_queries(26):
        result = erase_client_data(email="ada@example.com", actor=superuser)
    assert len(result.booking_ids) == 42


# ---------------------------------------------------------------- emails


def test_the_clients_emails_are_emptied_but_keep_their_facts(ada, superuser, staff, session):
    # A booking Ada cancelled herself (the business was told, with her details), then purged.
    gone = make_booking(session=session, client_name="Ada Lovelace", client_email="ada@example.com")
    services.cancel_booking_as_client(
        reference=gone.reference, proof=owner_proof(gone), reason="", context=CLIENT
    )
    services.purge_bookings(gone, actor=staff, reason="tidy", confirmed=True, context=DESK)
    hers = OutboxEmail.objects.filter(booking_id__in=[ada["first"].pk, ada["purged"].pk, gone.pk])
    facts = {e.pk: (e.kind, e.reference, e.business_id, e.created_at) for e in hers}
    assert len(facts) == 5  # two confirmations and two notices of her cancellations, one removal

    erase_client_data(email="ada@example.com", actor=superuser)

    for email in OutboxEmail.objects.filter(pk__in=facts):
        assert (email.kind, email.reference, email.business_id, email.created_at) == facts[email.pk]
        assert (email.subject, email.text_body, email.html_body) == ("[erased]",) * 3
        assert (email.status, email.last_error) == (EmailStatus.FAILED, NOT_SENT)
        # The business's address stays, hers goes (the notices replied to her).
        to_business = email.kind == EmailKind.BUSINESS_NOTICE
        assert email.recipient == ("desk@example.com" if to_business else "")
        assert email.reply_to == ("" if to_business else "desk@example.com")


@pytest.mark.usefixtures("anymail_backend")
def test_erased_emails_are_never_sent_and_others_go_out_without_mentions(
    ada, superuser, django_capture_on_commit_callbacks
):
    erase_client_data(email="ada@example.com", actor=superuser)
    # Everything still queued is handed to the worker, as after a crash.
    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=timezone.now() + timedelta(hours=1))
    run_email_tasks()
    assert [message.to for message in mail.outbox] == [["bob@example.com"]]
    assert "Duplicate of [erased]'s" in mail.outbox[0].body


def test_mentions_are_erased_from_html_bodies_as_html_writes_them(business, staff, superuser):
    session = make_session(business=business)
    make_booking(session=session, client_name="Pat O'Hara", client_email="o'hara@example.com")
    other = make_booking(session=session, client_name="Sam", client_email="sam@example.com")
    services.cancel_bookings(other, actor=staff, reason="Swapped with o'hara@example.com")
    [email] = rendered(OutboxEmail.objects.filter(booking_id=other.pk))
    assert "o&#x27;hara@example.com" in email.html_body

    erase_client_data(email="o'hara@example.com", actor=superuser)

    email.refresh_from_db()
    assert "hara@example.com" not in email.html_body + email.text_body
    assert email.recipient == "sam@example.com"


# ---------------------------------------------------------------- admin log


def test_admin_log_entries_of_the_clients_bookings_lose_the_name(ada, superuser, staff):
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[ada["first"], ada["bob"]], action_flag=CHANGE
    )
    erase_client_data(email="ada@example.com", actor=superuser)
    entries = dict(LogEntry.objects.values_list("object_id", "object_repr"))
    assert entries[str(ada["first"].pk)] == f"{ada['first'].reference} — [erased]"
    assert entries[str(ada["bob"].pk)] == f"{ada['bob'].reference} — Bob"


# ---------------------------------------------------------------- export files


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def finished_job(owner, table, bookings):
    job = ExportJob.objects.create(
        owner=owner, table=table, format="csv", selection=[b.pk for b in bookings]
    )
    return run_job(job)


def test_export_files_holding_a_changed_booking_are_deleted(
    ada, superuser, media_root, django_capture_on_commit_callbacks
):
    hers = finished_job(superuser, "bookings", [ada["first"], ada["carol"]])
    mentions = finished_job(superuser, "audit", [ada["bob"]])  # Bob's reason names her
    carols = finished_job(superuser, "bookings", [ada["carol"]])
    sessions = finished_job(superuser, "sessions", [])
    paths = {job.pk: media_root / job.file.name for job in (hers, mentions, carols)}
    assert all(path.exists() for path in paths.values())

    with django_capture_on_commit_callbacks(execute=True):
        result = erase_client_data(email="ada@example.com", actor=superuser)

    assert result.changed["export files"] == 2
    assert set(ExportJob.objects.values_list("pk", flat=True)) == {carols.pk, sessions.pk}
    assert [pk for pk, path in paths.items() if path.exists()] == [carols.pk]


def test_a_dry_run_keeps_the_export_files(
    ada, superuser, media_root, django_capture_on_commit_callbacks
):
    job = finished_job(superuser, "bookings", [ada["first"]])
    with django_capture_on_commit_callbacks(execute=True):
        result = erase_client_data(email="ada@example.com", actor=superuser, dry_run=True)
    assert result.changed["export files"] == 1
    assert ExportJob.objects.filter(pk=job.pk).exists()
    assert (media_root / job.file.name).exists()


def test_a_job_deleted_while_it_ran_leaves_no_file(ada, superuser, media_root):
    job = ExportJob.objects.create(
        owner=superuser, table="bookings", format="csv", selection=[ada["first"].pk]
    )
    ExportJob.objects.filter(pk=job.pk).delete()  # an erasure, while the worker wrote it
    run_job(job)
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_the_clients_waitlist_entries_and_their_records_are_erased(ada, superuser):
    from booking.waitlist.models import WaitlistEntry

    [entry] = WaitlistEntry.objects.all()
    erase_client_data(phone="+44 7700 900123", actor=superuser, reason="asked")

    entry.refresh_from_db()
    assert (entry.client_name, entry.client_email, entry.client_phone) == (ERASED_NAME, "", "")
    assert entry.status == "offered"  # the facts stay
    assert {r.client_email for r in entry.history.all()} == {""}
    latest = entry.history.first()
    assert (latest.history_user, latest.history_change_reason) == (superuser, "asked")
