"""Sessions, with their bookings (read only: bookings change through their own admin)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from booking.admin import move_targets
from booking.admin.move_targets import MoveTargetsView
from booking.admin.session_cancel import cancel_sessions_action
from booking.admin.tenancy import ReadOnlyBookingInline, ScopedRelatedFieldListFilter, TenantAdmin
from booking.admin.waitlist import WaitlistInline, spots_summary
from booking.models import (
    SEATED_STATUSES,
    BookingQuerySet,
    BookingRequest,
    Session,
    SessionCancellationJob,
    SessionStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from booking.times import business_time_html


class BookingInline(ReadOnlyBookingInline):
    """A session's live bookings, each linking to its change form."""

    model = BookingRequest
    fields = ["booking_link", "client_name", "client_email", "status", "cancelled_at"]
    readonly_fields = ["booking_link", "client_name", "client_email", "status", "cancelled_at"]
    show_change_link = False
    verbose_name_plural = "bookings (live)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return cast(BookingQuerySet, super().get_queryset(request)).for_user(request.user)

    @admin.display(description="Reference")
    def booking_link(self, booking: BookingRequest) -> str:
        url = reverse("admin:booking_bookingrequest_change", args=[booking.pk])
        return format_html('<a href="{}">{}</a>', url, booking.reference)


def latest_job(session: Session) -> SessionCancellationJob | None:
    """The session's latest background cancellation (prefetched by the admin's queryset)."""
    if session.pk is None:
        return None
    return next(iter(session.cancellation_jobs.all()), None)


@admin.register(Session)
class SessionAdmin(TenantAdmin):
    list_display = ["title", "business", "starts_at_local", "booked", "waiting", "status_badge"]
    list_filter = ["status", ("business", ScopedRelatedFieldListFilter), "starts_at"]
    list_select_related = ["business"]
    # Also the booking form's session autocomplete: title and local time of each match.
    search_fields = ["title", "business__name"]
    ordering = ["starts_at", "pk"]  # explicit: the booked count's GROUP BY drops Meta.ordering
    date_hierarchy = "starts_at"
    autocomplete_fields = ["business"]
    show_full_result_count = False
    inlines = [BookingInline, WaitlistInline]
    readonly_fields = [
        "spots",
        "status",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
        "cancellation_progress",
    ]
    actions = [cancel_sessions_action]

    def get_urls(self) -> list[URLPattern]:
        targets = MoveTargetsView.as_view(admin_site=self.admin_site)
        return [
            path("move-targets/", self.admin_site.admin_view(targets), name=move_targets.URL_NAME),
            *super().get_urls(),
        ]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """A session's bookings and waitlist entries protect it: the page lists them.

        Django also counts those protected rows as "objects your account may not
        delete" (no one may delete a booking or an entry here), and that message
        would hide the list; nothing is deleted either way."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set() if protected else perms_needed, protected

    def has_cancel_session_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("booking.cancel_session")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The seats taken (live bookings), as the session's page counts them.
        active = Q(bookings__status__in=SEATED_STATUSES, bookings__is_deleted=False)
        # Each session's latest background cancellation, for its progress (one query a page).
        jobs = Prefetch("cancellation_jobs", SessionCancellationJob.objects.order_by("-pk"))
        waiting = WaitlistEntry.objects.filter(
            session=OuterRef("pk"), status=WaitlistStatus.WAITING
        )
        waiting_count = waiting.order_by().values("session").annotate(n=Count("pk")).values("n")
        return (
            super()
            .get_queryset(request)
            .annotate(
                booked_count=Count("bookings", filter=active),
                waiting_count=Coalesce(Subquery(waiting_count, output_field=IntegerField()), 0),
            )
            .prefetch_related(jobs)
        )

    @admin.display(description="Spots")
    def spots(self, session: Session) -> str:
        return spots_summary(session)

    @admin.display(description="Waiting", ordering="waiting_count")
    def waiting(self, session: Session) -> int:
        return session.waiting_count  # type: ignore[attr-defined]  # get_queryset's annotation

    @admin.display(description="Bookings' cancellation")
    def cancellation_progress(self, session: Session) -> str:
        """The background job's progress: done / total, failures (refresh to follow it)."""
        job = latest_job(session)
        if job is None:
            return "None in the background"
        if not job.error:
            return job.progress
        return format_html("{}<br><small>{}</small>", job.progress, job.error)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """As the booking form's session autocomplete, only sessions that take bookings
        (the form refuses a cancelled one all the same)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "bookingrequest" and "term" in request.GET:
            results = results.filter(status=SessionStatus.SCHEDULED)
        return results, may_have_duplicates

    @admin.display(description="Starts", ordering="starts_at")
    def starts_at_local(self, session: Session) -> str:
        return business_time_html(session.starts_at, session)

    @admin.display(description="Booked / capacity", ordering="booked_count")
    def booked(self, session: Session) -> str:
        booked_count = session.booked_count  # type: ignore[attr-defined]  # get_queryset's annotation
        return f"{booked_count} / {session.capacity}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, session: Session) -> str:
        badge = format_html(
            '<span class="booking-badge booking-badge--{}">{}</span>',
            session.status,
            session.get_status_display(),
        )
        job = latest_job(session)
        if job is None or job.is_finished:
            return badge
        return format_html("{}<br><small>{}</small>", badge, job.progress)
