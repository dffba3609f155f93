"""The move page's target session: Django's autocomplete, over the sessions a move may target.

`MoveTargetsView` answers the widget's searches like Django's own
`admin:autocomplete`, but from `eligible_targets(user)`: the user's businesses'
sessions that are scheduled and have not started, never another business's, a
past or a cancelled one. It needs the `move_bookingrequest` permission. The
confirmation form's field has the same queryset, so a forged id (typed into the
POST) is refused as "not one of the available choices", and the service
re-checks the target under its lock all the same.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import QuerySet
from django.http import HttpRequest

from booking.models import BookingRequest, Session
from booking.services.lifecycle.moves import eligible_targets

URL_NAME = "booking_session_move_targets"
MOVE_PERMISSION = "booking.move_bookingrequest"


def describe(session: Session) -> str:
    """ "Spin class (Tue 3 Dec 2030, 07:00 UTC) — Johnny Bravo Fitness Center"."""
    return f"{session} — {session.business.name}"


class MoveTargetsView(AutocompleteJsonView):
    """`/admin/booking/session/move-targets/?term=…`: JSON of the eligible target sessions."""

    def has_perm(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(MOVE_PERMISSION)

    def get_queryset(self) -> QuerySet:
        sessions = eligible_targets(self.request.user)
        sessions, may_have_duplicates = self.model_admin.get_search_results(
            self.request, sessions, self.term
        )
        return sessions.distinct() if may_have_duplicates else sessions

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        return {"id": str(getattr(obj, to_field_name)), "text": describe(obj)}


class MoveTargetWidget(AutocompleteSelect):
    """Django's autocomplete select, asking `MoveTargetsView` instead of `admin:autocomplete`.

    The request names the booking's `session` field (as the booking form's own
    autocomplete does), which Django's view checks exists and leads to sessions.
    """

    url_name = f"%s:{URL_NAME}"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(BookingRequest._meta.get_field("session"), admin.site, attrs=attrs)
