"""The admin site: Django's, with the businesses' notices on its home page.

In its own module, outside `booking.admin`: `admin.site` is built from it while
`booking.admin` registers its model admins on `admin.site`. `booking.apps`
makes it the default site.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from booking.notices import client_cancellations


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
        (`booking.notices`): seeing them there counts as having looked."""
        context = dict(extra_context or {})
        if request.user.has_perm("booking.view_bookingrequest"):
            context["client_cancellations"] = client_cancellations(request.user)
        return super().index(request, context)

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        return cast(HttpResponse, AutocompleteView.as_view(admin_site=self)(request))
