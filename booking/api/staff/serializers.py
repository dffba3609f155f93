"""Bookings and their history as JSON for staff (SPEC §8): plain dicts, no framework.

`booking_json` reads only what `with_api_related` loads, so a page of bookings
costs the same number of queries whatever its size.
"""

from __future__ import annotations

from typing import Any

from booking import money
from booking.models import BookingQuerySet, BookingRequest

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "purged"}


def with_api_related(bookings: BookingQuerySet) -> BookingQuerySet:
    return bookings.select_related(
        "session__business__booking_settings", "cancelled_by", "deleted_by", "fee_waived_by"
    )


def user_json(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username()}


def booking_json(booking: BookingRequest) -> dict[str, Any]:
    session = booking.session
    return {
        "id": booking.pk,
        "reference": booking.reference,
        "status": booking.status,
        "client_name": booking.client_name,
        "client_email": booking.client_email,
        "client_phone": booking.client_phone,
        "session": {
            "id": session.pk,
            "title": session.title,
            "starts_at": session.starts_at,
            # "cancelled": the business cancelled the whole session.
            "status": session.status,
            "cancellation_reason": session.cancellation_reason,
        },
        "business": session.business.slug,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
        "cancelled_at": booking.cancelled_at,
        "cancelled_by": user_json(booking.cancelled_by),
        "cancellation_reason": booking.cancellation_reason,
        "cancelled_by_client": booking.cancelled_by_client,
        "is_deleted": booking.is_deleted,
        "deleted_at": booking.deleted_at,
        "deleted_by": user_json(booking.deleted_by),
        "deletion_reason": booking.deletion_reason,
        # A fee is a ledger fact: the amount as a string ("12.50"), null until decided.
        "fee_amount": money.as_text(booking.fee_amount) if booking.fee_amount is not None else None,
        "fee_status": booking.fee_status,
        "fee_waived_at": booking.fee_waived_at,
        "fee_waived_by": user_json(booking.fee_waived_by),
        "fee_waiver_reason": booking.fee_waiver_reason,
    }


def history_json(records: list[Any]) -> list[dict[str, Any]]:
    """Each historical record, newest first: who, when, what changed, why, from where.

    `records` is every record of one booking with `history_user` loaded; the
    changes are computed in memory against the record before it (no query each).
    """
    ordered = sorted(records, key=lambda record: (record.history_date, record.history_id))
    entries = []
    previous = None
    for record in ordered:
        changes: list[dict[str, Any]] = []
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        entries.append(
            {
                "id": record.history_id,
                "at": record.history_date,
                "type": HISTORY_TYPES.get(record.history_type, record.history_type),
                "user": user_json(record.history_user),
                "reason": record.history_change_reason or "",
                "ip_address": record.ip_address,
                "changes": changes,
            }
        )
        previous = record
    entries.reverse()
    return entries
