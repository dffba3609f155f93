"""The data model: references, settings, managers, scope, permissions, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from booking import models as booking_models
from booking.models import (
    REFERENCE_ALPHABET,
    BookingRequest,
    BookingSettings,
    BookingStatus,
    Business,
    Session,
    generate_reference,
)
from tests.factories import make_booking, make_business, make_session, make_staff


def test_reference_alphabet_has_no_ambiguous_characters():
    assert set(REFERENCE_ALPHABET).isdisjoint("01OI")
    assert len(set(REFERENCE_ALPHABET)) == 32  # 8 characters of 5 bits: 40 bits


def test_references_are_eight_upper_case_characters_of_the_alphabet():
    references = {generate_reference() for _ in range(2000)}

    assert len(references) == 2000
    assert all(len(r) == 8 and set(r) <= set(REFERENCE_ALPHABET) for r in references)


def test_a_booking_gets_a_reference(booking):
    assert len(booking.reference) == 8 and set(booking.reference) <= set(REFERENCE_ALPHABET)


def test_references_are_unique_in_the_database(session):
    make_booking(session=session, reference="ABCDEFGH")

    with pytest.raises(IntegrityError), transaction.atomic():
        BookingRequest.all_objects.bulk_create(
            [BookingRequest(session=session, client_name="B", reference="ABCDEFGH")]
        )


def test_a_reference_collision_draws_a_new_reference(session, monkeypatch):
    make_booking(session=session, reference="TAKENAAA")
    fresh = iter(["TAKENAAA", "FRESHBBB"])
    monkeypatch.setattr(booking_models, "generate_reference", lambda: next(fresh))

    with transaction.atomic():  # the caller's transaction survives the collision
        booking = BookingRequest(session=session, client_name="Grace", reference="TAKENAAA")
        booking.save()
        later = make_booking(session=session, client_name="Alan")

    assert booking.reference == "FRESHBBB"
    assert BookingRequest.all_objects.get(pk=booking.pk).reference == "FRESHBBB"
    assert later.pk and booking.history.count() == 1


def test_a_reference_collision_gives_up_after_a_few_attempts(session, monkeypatch):
    make_booking(session=session, reference="TAKENAAA")
    monkeypatch.setattr(booking_models, "generate_reference", lambda: "TAKENAAA")

    with pytest.raises(IntegrityError):
        BookingRequest(session=session, client_name="Grace", reference="TAKENAAA").save()
    assert BookingRequest.all_objects.count() == 1


def test_other_integrity_errors_are_not_retried(session, monkeypatch):
    drawn = []
    monkeypatch.setattr(booking_models, "generate_reference", lambda: drawn.append(1) or "NEWREFAA")

    with pytest.raises(IntegrityError):
        BookingRequest(session=session, client_name=None).save()  # NOT NULL
    assert drawn == []


def test_saving_an_existing_booking_keeps_its_reference(booking):
    reference = booking.reference
    booking.client_name = "Ada King"
    booking.save()

    assert BookingRequest.all_objects.get(pk=booking.pk).reference == reference


def test_booking_settings_are_created_with_their_business(db):
    business = Business.objects.create(name="Yoga Loft", slug="yoga-loft")

    policy = Business.objects.get(pk=business.pk).booking_settings
    assert (
        policy.allow_client_cancellation,
        policy.cancellation_deadline_hours,
        policy.send_cancellation_emails,
        policy.cancellation_fee_policy,
        policy.allow_admin_deletion,
        policy.require_deletion_reason,
    ) == (True, 24, True, "", True, True)
    assert BookingSettings.objects.filter(business=business).count() == 1


def test_saving_a_business_again_does_not_duplicate_its_settings(business):
    business.name = "Johnny Bravo Gym"
    business.save()

    assert BookingSettings.objects.filter(business=business).count() == 1


def test_objects_hides_soft_deleted_and_all_objects_shows_them(session):
    live = make_booking(session=session)
    deleted = make_booking(session=session, is_deleted=True)

    assert list(BookingRequest.objects.all()) == [live]
    assert set(BookingRequest.all_objects.all()) == {live, deleted}
    assert list(BookingRequest.all_objects.deleted()) == [deleted]
    assert list(BookingRequest.all_objects.live()) == [live]
    with pytest.raises(BookingRequest.DoesNotExist):
        BookingRequest.objects.get(pk=deleted.pk)


def test_queryset_states(business):
    now = timezone.now()
    past = make_session(business=business, starts_at=now - timedelta(days=1))
    ahead = make_session(business=business, starts_at=now + timedelta(days=1))
    active_ahead = make_booking(session=ahead, status=BookingStatus.APPROVED)
    make_booking(session=ahead, status=BookingStatus.CANCELLED)
    active_past = make_booking(session=past, status=BookingStatus.PENDING)
    old = make_booking(session=past, is_deleted=True, deleted_at=now - timedelta(days=40))
    recent = make_booking(session=past, is_deleted=True, deleted_at=now - timedelta(days=2))

    assert set(BookingRequest.objects.active()) == {active_ahead, active_past}
    assert list(BookingRequest.objects.active().upcoming(now=now)) == [active_ahead]
    assert list(BookingRequest.all_objects.purgeable(older_than=now - timedelta(days=30))) == [old]
    assert recent not in BookingRequest.all_objects.purgeable(older_than=now - timedelta(days=30))
    assert list(Session.objects.upcoming(now=now)) == [ahead]


def test_for_user_is_the_tenant_scope(business, other_business, staff, superuser):
    mine = make_booking(session=make_session(business=business))
    theirs = make_booking(session=make_session(business=other_business))
    not_staff = make_staff()
    not_staff.is_staff = False
    inactive = make_staff(businesses=(business,))
    inactive.is_active = False

    assert list(BookingRequest.objects.for_user(staff)) == [mine]
    assert set(BookingRequest.objects.for_user(superuser)) == {mine, theirs}
    assert list(BookingRequest.objects.for_user(not_staff)) == []
    assert list(BookingRequest.objects.for_user(inactive)) == []
    assert list(BookingRequest.objects.for_user(AnonymousUser())) == []
    assert list(Business.objects.for_user(staff)) == [business]
    assert list(BookingSettings.objects.for_user(staff)) == [business.booking_settings]
    assert list(Session.objects.for_user(staff)) == [mine.session]


def test_staff_of_two_businesses_sees_each_booking_once(business, other_business, staff):
    other_business.staff.add(staff)
    make_booking(session=make_session(business=business))
    make_booking(session=make_session(business=other_business))

    assert BookingRequest.objects.for_user(staff).count() == 2


def test_custom_permissions_exist(db):
    codenames = set(
        Permission.objects.filter(content_type__app_label="booking").values_list(
            "codename", flat=True
        )
    )

    assert {
        "cancel_bookingrequest",
        "soft_delete_bookingrequest",
        "restore_bookingrequest",
        "purge_bookingrequest",
        "export_bookingrequest",
    } <= codenames


@pytest.mark.parametrize("model", [Business, BookingSettings, Session, BookingRequest])
def test_every_model_has_an_audited_history(model):
    historical = model.history.model
    fields = {field.name: field for field in historical._meta.fields}

    assert isinstance(fields["ip_address"], models.GenericIPAddressField)
    assert isinstance(fields["user_agent"], models.CharField)
    assert isinstance(fields["history_change_reason"], models.TextField)  # 1000 chars, whole


def test_a_session_must_end_after_it_starts(business):
    start = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(business=business, title="X", starts_at=start, ends_at=start)


def test_business_time_zone_is_validated(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Business(name="X", slug="x", timezone="Mars/Olympus").clean()
    make_business(timezone_name="Europe/Berlin").clean()
