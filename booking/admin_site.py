"""The admin site: Django's, with the businesses' notices on its home page.

The home page shows each staff member their businesses' recent client
cancellations, newest first, and how many are new since they last looked
(`booking.notices.CancellationsSeen`, one row per user, moved forward on each
look): the business hears of them in the admin as well as by email.

In its own module, outside `booking.admin`: `admin.site` is built from it while
`booking.admin` registers its model admins on `admin.site`. `booking.apps`
makes it the default site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from booking.models import BookingRequest, BookingStatus
from booking.notices import CancellationsSeen

# How far back, and how many, the home page lists.
RECENT = timedelta(days=30)
LIST_LENGTH = 10


@dataclass(frozen=True)
class CancellationNotice:
    bookings: list[Any]  # newest first, with their session and business
    new_count: int  # cancelled since the user last looked (all of them, not only those listed)
    since: datetime | None  # when they last looked; None the first time

    @property
    def several_businesses(self) -> bool:
        """Do the listed bookings belong to more than one business (then name each)?"""
        return len({booking.session.business_id for booking in self.bookings}) > 1


def client_cancellations(user: Any, *, now: datetime | None = None) -> CancellationNotice:
    """The user's businesses' client cancellations of the last RECENT, newest first, and
    how many came since the user last looked; then records this look. Four queries,
    whatever the number of bookings or businesses."""
    now = now or timezone.now()
    cancelled = BookingRequest.objects.for_user(user).filter(
        status=BookingStatus.CANCELLED, cancelled_by_client=True, cancelled_at__gte=now - RECENT
    )
    seen = CancellationsSeen.objects.filter(user=user).values_list("seen_at", flat=True).first()
    bookings = list(
        cancelled.select_related("session__business").order_by("-cancelled_at", "-pk")[:LIST_LENGTH]
    )
    new = cancelled.filter(cancelled_at__gt=seen) if seen else cancelled
    new_count = new.count() if bookings else 0
    if seen is None:
        # A second tab's first look may have created the row meanwhile: either is right.
        CancellationsSeen.objects.get_or_create(user=user, defaults={"seen_at": now})
    else:
        CancellationsSeen.objects.filter(user=user).update(seen_at=now)
    return CancellationNotice(bookings=bookings, new_count=new_count, since=seen)


class AutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, which also lets whoever may change a booking choose its
    session (the list stays tenant-scoped by the session admin's queryset)."""

    def has_perm(self, request: HttpRequest, obj: Model | None = None) -> bool:
        source = getattr(self, "source_field", None)
        if (
            source is not None
            and source.model._meta.label == "booking.BookingRequest"
            and source.name == "session"
            and request.user.has_perm("booking.change_bookingrequest")
        ):
            return True
        return super().has_perm(request, obj)


class BackofficeAdminSite(admin.AdminSite):
    site_header = "Booking Backoffice"
    site_title = "Booking Backoffice"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The home page, with the user's businesses' recent client cancellations
        (`client_cancellations`): seeing them there counts as having looked."""
        context = dict(extra_context or {})
        if request.user.has_perm("booking.view_bookingrequest"):
            context["client_cancellations"] = client_cancellations(request.user)
        return super().index(request, context)

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        return cast(HttpResponse, AutocompleteView.as_view(admin_site=self)(request))
