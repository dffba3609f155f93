"""Keyword-only factories: each test states the fields it depends on."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission
from django.utils import timezone

from booking.models import BookingRequest, BookingStatus, Business, Session
from booking.services.lifecycle.client import Proof

_seq = itertools.count(1)

ALL_BOOKING_PERMISSIONS = [
    "view_bookingrequest",
    "change_bookingrequest",
    "cancel_bookingrequest",
    "soft_delete_bookingrequest",
    "restore_bookingrequest",
    "purge_bookingrequest",
    "export_bookingrequest",
    "waive_fee_bookingrequest",
    "move_bookingrequest",
]


def make_business(
    *,
    slug: str | None = None,
    name: str | None = None,
    timezone_name: str = "UTC",
    country: str = "GB",  # the test clients' numbers are British
    contact_email: str = "desk@example.com",
    contact_phone: str = "+44 20 7946 0000",
    staff: tuple[Any, ...] = (),
    currency: str = "USD",
    fee_rules: tuple[tuple[int, str, str], ...] = (),
    **policy: Any,
) -> Business:
    """`fee_rules`: (hours_before, percent, fixed_fee) tiers; `policy`: BookingSettings fields."""
    n = next(_seq)
    business = Business.objects.create(
        name=name or f"Business {n}",
        slug=slug or f"business-{n}",
        timezone=timezone_name,
        country=country,
        contact_email=contact_email,
        contact_phone=contact_phone,
        currency=currency,
    )
    for hours_before, percent, fixed_fee in fee_rules:
        business.booking_settings.fee_rules.create(
            hours_before=hours_before, percent=Decimal(percent), fixed_fee=Decimal(fixed_fee)
        )
    if staff:
        business.staff.add(*staff)
    if policy:
        settings = business.booking_settings
        for field, value in policy.items():
            setattr(settings, field, value)
        settings.save()
    return business


def make_session(
    *,
    business: Business,
    starts_at: datetime | None = None,
    starts_in: timedelta = timedelta(days=7),
    duration: timedelta = timedelta(hours=1),
    title: str = "Spin class",
    capacity: int = 20,
    price: str = "0.00",
) -> Session:
    start = starts_at or timezone.now() + starts_in
    return Session.objects.create(
        business=business,
        title=title,
        starts_at=start,
        ends_at=start + duration,
        capacity=capacity,
        price=Decimal(price),
    )


def make_booking(
    *,
    session: Session,
    status: str = BookingStatus.PENDING,
    client_name: str = "Ada Lovelace",
    client_email: str = "ada@example.com",
    client_phone: str = "+44 7700 900123",
    is_deleted: bool = False,
    **fields: Any,
) -> BookingRequest:
    """A booking saved as every creation path saves one: with its policy snapshot
    (`BookingRequest.save`), unless `policy_snapshot` is given."""
    if is_deleted:
        fields.setdefault("deleted_at", timezone.now())
        fields.setdefault("deletion_reason", "test data")
    return BookingRequest.all_objects.create(
        session=session,
        status=status,
        client_name=client_name,
        client_email=client_email,
        client_phone=client_phone,
        is_deleted=is_deleted,
        **fields,
    )


def make_staff(
    *,
    username: str | None = None,
    businesses: tuple[Business, ...] = (),
    permissions: list[str] | None = None,
    superuser: bool = False,
    password: str = "correct horse battery staple",
) -> Any:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.create_user(
        username=username or f"staff{next(_seq)}",
        password=password,
        is_staff=True,
        is_superuser=superuser,
    )
    codenames = ALL_BOOKING_PERMISSIONS if permissions is None else permissions
    if codenames and not superuser:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    for business in businesses:
        business.staff.add(user)
    # Fetch again so that the permission cache starts empty.
    return User.objects.get(pk=user.pk)


def owner_proof(booking: BookingRequest) -> Proof:
    """What the booking's own client proves it with: its email address."""
    return Proof(email=booking.client_email)
