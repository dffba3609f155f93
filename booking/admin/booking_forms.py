"""The booking admin's list filters and its add / change form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst

from booking.services import rules
from booking.services.waitlist import spots


class DeletedFilter(admin.SimpleListFilter):
    """Deletion state: absent → live bookings, `yes` → deleted only, `all` → both."""

    title = "deletion state"
    parameter_name = "deleted"
    filters_by_default = True  # "Live" narrows the list (read by the export page's summary)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Deleted"), ("all", "Live and deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "all":
            return queryset
        if value == "yes":
            return queryset.filter(is_deleted=True)
        return queryset.filter(is_deleted=False)

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() not in ("yes", "all"),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }


class SessionTimeFilter(admin.SimpleListFilter):
    """When the session starts, relative to now: `when=upcoming`, `next7` or `past`.

    Relative to the moment of the request, so a bookmarked "Next 7 days" stays
    the next seven days; the same in every business's zone. A value it does not
    know lists nothing (rather than everything).
    """

    title = "session time"
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("upcoming", "Upcoming"), ("next7", "Next 7 days"), ("past", "Past")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value, now = self.value(), timezone.now()
        if value is None:
            return queryset
        if value == "upcoming":
            return queryset.filter(session__starts_at__gte=now)
        if value == "next7":
            return queryset.filter(
                session__starts_at__gte=now, session__starts_at__lt=now + timedelta(days=7)
            )
        if value == "past":
            return queryset.filter(session__starts_at__lt=now)
        return queryset.none()


class BookingForm(forms.ModelForm):
    """The add and change form: a booking goes only into a session that takes bookings
    and has a spot nobody holds (the service counts it again under the session's lock)."""

    def clean_session(self) -> Any:
        session = self.cleaned_data.get("session")
        if session is not None and session.pk != self.instance.session_id:
            refusal = rules.check_takes_bookings(session)
            if refusal is not None:
                raise ValidationError(capfirst(refusal.message) + ".", code="session_cancelled")
            takes_spot = self.instance.pk is None or self.instance.is_active
            if takes_spot and spots.room_in(session, now=timezone.now()) < 1:
                raise ValidationError(
                    "The session is full (its waitlist's open offers hold their spots).",
                    code="session_full",
                )
        return session


class SessionDateFilter(admin.DateFieldListFilter):
    """Django's date filter on the session's start, named for what it filters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "session date"
