"""`manage.py bookings show | clean | purge-deleted | erase`: effects, audit and refusals."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from booking.exports.jobs import run_job
from booking.exports.models import ExportJob
from booking.models import BookingRequest
from tests.factories import make_booking, make_business, make_session


def run(*args):
    out = StringIO()
    call_command("bookings", *args, stdout=out)
    return out.getvalue()


def last_record(booking):
    return BookingRequest.history.filter(id=booking.pk).order_by("-history_id").first()


# ---------------------------------------------------------------- show


def test_show_lists_live_bookings_and_counts(session, other_business):
    live = make_booking(session=session, client_email="live@example.com")
    hidden = make_booking(session=session, is_deleted=True)
    output = run("show")
    assert "1 bookings" in output
    assert live.reference in output and hidden.reference not in output
    assert "Johnny Bravo Fitness Center: 1 pending" in output


def test_show_include_deleted_and_business_filter(session, other_business):
    hidden = make_booking(session=session, is_deleted=True)
    foreign = make_booking(session=make_session(business=other_business))
    output = run("show", "--include-deleted", "--business", "johnny-bravo-fitness-center")
    assert hidden.reference in output and "(deleted)" in output
    assert foreign.reference not in output


def test_show_refuses_an_unknown_business(db):
    with pytest.raises(CommandError, match="No business with slug 'nope'"):
        run("show", "--business", "nope")


def test_show_limits_the_listing(session):
    for n in range(3):
        make_booking(session=session, client_email=f"c{n}@example.com")
    assert "and 1 more" in run("show", "--limit", "2")


# ---------------------------------------------------------------- clean


def test_clean_soft_deletes_the_given_emails_with_an_audited_reason(session):
    test = make_booking(session=session, client_email="Test@Example.com")
    keep = make_booking(session=session, client_email="real@example.com")
    output = run("clean", "--emails", "test@example.com")
    assert "1 soft-deleted" in output
    test.refresh_from_db()
    keep.refresh_from_db()
    assert test.is_deleted and test.deletion_reason == "Test data cleanup"
    assert not keep.is_deleted
    record = last_record(test)
    assert record.history_change_reason == "Test data cleanup"
    assert record.history_user is None
    assert record.user_agent == "manage.py bookings clean"


def test_clean_hard_purges_and_keeps_the_final_record(session):
    test = make_booking(session=session, client_email="test@example.com", is_deleted=True)
    output = run("clean", "--emails", "test@example.com", "--hard", "--reason", "fixtures")
    assert "1 purged" in output
    assert not BookingRequest.all_objects.filter(pk=test.pk).exists()
    record = last_record(test)
    assert (record.history_type, record.history_change_reason) == ("-", "fixtures")


def test_clean_all_without_yes_refuses_and_changes_nothing(session):
    booking = make_booking(session=session)
    with pytest.raises(CommandError, match="add --yes"):
        run("clean", "--all")
    booking.refresh_from_db()
    assert not booking.is_deleted


def test_clean_all_yes_soft_deletes_everything(session, other_business):
    make_booking(session=session)
    make_booking(session=make_session(business=other_business))
    assert "2 soft-deleted" in run("clean", "--all", "--yes")
    assert BookingRequest.objects.count() == 0
    assert BookingRequest.all_objects.count() == 2


def test_clean_needs_a_selection(db):
    with pytest.raises(CommandError, match="either --emails"):
        run("clean")
    with pytest.raises(CommandError, match="either --emails"):
        run("clean", "--all", "--yes", "--emails", "a@example.com")


def test_clean_dry_run_changes_nothing_and_reports_skips(session):
    strict = make_business(slug="strict", allow_admin_deletion=False)
    make_booking(session=session, client_email="test@example.com")
    make_booking(session=make_session(business=strict), client_email="test@example.com")
    output = run("clean", "--emails", "test@example.com", "--dry-run")
    assert "would soft-delete 1 bookings; would skip 1: 1 deletion disabled" in output
    assert BookingRequest.objects.count() == 2
    assert BookingRequest.history.count() == 2  # only the "+" records


def test_clean_all_dry_run_needs_no_yes(session):
    make_booking(session=session)
    assert "would soft-delete 1" in run("clean", "--all", "--dry-run")
    assert BookingRequest.objects.count() == 1


def test_clean_refuses_an_overlong_reason(session):
    make_booking(session=session, client_email="test@example.com")
    with pytest.raises(CommandError, match="the limit is 1000"):
        run("clean", "--emails", "test@example.com", "--reason", "x" * 1001)


# ---------------------------------------------------------------- purge-deleted


def test_purge_deleted_applies_retention(session):
    now = timezone.now()
    old = make_booking(session=session, is_deleted=True, deleted_at=now - timedelta(days=40))
    recent = make_booking(session=session, is_deleted=True, deleted_at=now - timedelta(days=5))
    live = make_booking(session=session)
    output = run("purge-deleted", "--older-than", "30")
    assert "1 purged" in output
    assert set(BookingRequest.all_objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    record = last_record(old)
    assert record.history_type == "-"
    assert record.history_change_reason == "Retention: soft-deleted more than 30 days ago"
    assert record.user_agent == "manage.py bookings purge-deleted"


def test_purge_deleted_dry_run_changes_nothing(session):
    make_booking(session=session, is_deleted=True, deleted_at=timezone.now() - timedelta(days=40))
    assert "would purge 1 bookings" in run("purge-deleted", "--older-than", "30", "--dry-run")
    assert BookingRequest.all_objects.count() == 1


def test_purge_deleted_reports_what_the_policy_keeps(db):
    strict = make_business(slug="strict", allow_admin_deletion=False)
    old = timezone.now() - timedelta(days=40)
    make_booking(session=make_session(business=strict), is_deleted=True, deleted_at=old)
    assert "skipped: deletion disabled" in run("purge-deleted", "--older-than", "30")
    assert BookingRequest.all_objects.count() == 1


@pytest.fixture
def old_and_new_exports(staff, settings, tmp_path):
    """A finished export asked for 10 days ago, and one from today, with their files."""
    settings.MEDIA_ROOT = tmp_path
    jobs = []
    for age in (10, 0):
        job = ExportJob.objects.create(owner=staff, table="bookings", format="csv")
        run_job(job)
        ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=age))
        jobs.append((job, tmp_path / job.file.name))
    return jobs


def test_purge_deleted_expires_old_export_files(
    old_and_new_exports, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_RETENTION_DAYS = 7
    (_old, old_file), (new, new_file) = old_and_new_exports
    with django_capture_on_commit_callbacks(execute=True):
        output = run("purge-deleted", "--older-than", "30")
    assert "Deleted 1 export files older than 7 days." in output
    assert list(ExportJob.objects.all()) == [new]
    assert (old_file.exists(), new_file.exists()) == (False, True)


def test_purge_deleted_takes_the_exports_retention_as_an_option(
    old_and_new_exports, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run("purge-deleted", "--older-than", "30", "--exports-older-than", "20")
    assert "Deleted 0 export files older than 20 days." in output
    assert ExportJob.objects.count() == 2


def test_purge_deleted_dry_run_keeps_the_export_files(
    old_and_new_exports, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run("purge-deleted", "--older-than", "30", "--dry-run")
    assert "would delete 1 export files older than 7 days" in output
    assert ExportJob.objects.count() == 2
    assert all(path.exists() for _, path in old_and_new_exports)


@pytest.mark.parametrize("days", ["0", "-3", "many"])
def test_purge_deleted_refuses_bad_days(db, days):
    with pytest.raises(CommandError):
        run("purge-deleted", "--older-than", days)


def test_purge_deleted_needs_older_than(db):
    with pytest.raises(CommandError):
        run("purge-deleted")


# ---------------------------------------------------------------- erase


def test_erase_by_email_reports_and_erases(session):
    booking = make_booking(session=session, client_email="ada@example.com")
    output = run("erase", "--email", "ADA@example.com")
    assert "Erased the personal data of 1 bookings" in output
    booking.refresh_from_db()
    assert booking.client_email == "" and booking.client_name == "[erased]"
    assert last_record(booking).user_agent == "manage.py bookings erase"


def test_erase_dry_run_changes_nothing(session):
    booking = make_booking(session=session, client_email="ada@example.com")
    output = run("erase", "--phone", "07700 900123", "--dry-run")
    assert "Would erase the personal data of 1 bookings" in output
    booking.refresh_from_db()
    assert booking.client_email == "ada@example.com"
    assert BookingRequest.history.filter(id=booking.pk).count() == 1


def test_erase_unknown_client_says_so(db):
    assert "No bookings of that client" in run("erase", "--email", "nobody@example.com")


def test_erase_needs_exactly_one_of_email_or_phone(db):
    with pytest.raises(CommandError):
        run("erase")
    with pytest.raises(CommandError):
        run("erase", "--email", "a@example.com", "--phone", "0123456789")


def test_erase_refuses_a_too_short_phone(db):
    with pytest.raises(CommandError, match="at least 6 digits"):
        run("erase", "--phone", "123")
