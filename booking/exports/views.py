"""Admin pages of the exports: "my export jobs", their downloads, and the cancellation report.

Plain views mounted under /admin/booking/ by `booking.exports.urls`, each
wrapped in `admin.site.admin_view` (login, staff, CSRF, no caching) there and
checking the booking permission here. Everything is tenant-scoped: the rows
come from `for_user(request.user)` querysets and a job is visible to its owner
only (anyone else gets a 404).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from booking.exports import jobs as jobs_module
from booking.exports import report as report_module
from booking.exports import retention, service
from booking.exports.chart import cancellation_chart
from booking.exports.forms import NewExportForm, ReportFilterForm
from booking.exports.models import ExportJob
from booking.exports.resources import RESOURCES, CancellationReportResource
from booking.exports.writers import FORMAT_LABELS, FORMATS
from booking.models import BookingRequest

EXPORT_PERMISSION = "booking.export_bookingrequest"
VIEW_PERMISSION = "booking.view_bookingrequest"


def permission_required(permission: str) -> Callable:
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": title,
        "opts": BookingRequest._meta,
        **extra,
    }


def _jobs_page(request: HttpRequest, form: NewExportForm, *, status: int = 200) -> HttpResponse:
    """*My exports*: the user's latest jobs and the form that starts one."""
    return TemplateResponse(
        request,
        "admin/booking/exports/jobs.html",
        _context(
            request,
            "My exports",
            jobs=ExportJob.objects.owned_by(request.user)[:50],
            form=form,
            retention_days=retention.retention_days(),
        ),
        status=status,
    )


@require_GET
@permission_required(EXPORT_PERMISSION)
def jobs(request: HttpRequest) -> HttpResponse:
    return _jobs_page(request, NewExportForm(user=request.user))


@require_POST
@permission_required(EXPORT_PERMISSION)
def new_export(request: HttpRequest) -> HttpResponseBase:
    form = NewExportForm(request.POST, user=request.user)
    if not form.is_valid():
        return _jobs_page(request, form, status=400)
    data = form.cleaned_data
    resource = RESOURCES[data["table"]]
    queryset = service.selection(
        request.user,
        resource,
        business=data["business"],
        include_deleted=data["include_deleted"],
    )
    return export_or_queue(
        request, queryset, resource=resource, fmt=data["format"], description=_describe(form)
    )


def export_or_queue(request: HttpRequest, queryset: QuerySet, **export: Any) -> HttpResponseBase:
    """The file itself, or, for an export too large for a request, a background job
    and a redirect to "My exports" saying so (`service.export`'s keywords)."""
    result = service.export(user=request.user, queryset=queryset, **export)
    if isinstance(result, ExportJob):
        messages.info(
            request,
            f"This export is large, so it is being prepared in the background "
            f"(export #{result.pk}). Download it here when it is ready.",
        )
        return redirect("booking_exports:jobs")
    return response_for(result)


def response_for(download: service.Download) -> HttpResponseBase:
    """The download as an attachment: a file (XLSX) or streamed text chunks."""
    if download.file is not None:
        return FileResponse(
            download.file,
            as_attachment=True,
            filename=download.filename,
            content_type=download.content_type,
        )
    assert download.chunks is not None  # a Download holds a file or chunks
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


def _describe(form: NewExportForm) -> str:
    data = form.cleaned_data
    parts = [RESOURCES[data["table"]].get_display_name(), data["format"].upper()]
    if data["business"]:
        parts.append(data["business"])
    if data["include_deleted"]:
        parts.append("with deleted")
    return ", ".join(parts)


@require_GET
@permission_required(EXPORT_PERMISSION)
def download(request: HttpRequest, pk: int) -> FileResponse:
    job = get_object_or_404(ExportJob.objects.owned_by(request.user), pk=pk)
    if not job.is_ready:
        raise Http404("This export is not ready.")
    if not jobs_module.still_in_scope(job, request.user):
        raise Http404("This export holds bookings you may no longer see.")
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=FORMATS[job.format].content_type,
    )


@require_GET
@permission_required(VIEW_PERMISSION)
def cancellation_report(request: HttpRequest) -> HttpResponseBase:
    data = request.GET.copy()
    if "start" not in data and "end" not in data:
        for key, value in ReportFilterForm.default_range().items():
            data[key] = value.isoformat()
    form = ReportFilterForm(data, user=request.user)
    rows: list[report_module.WeekRow] = []
    if form.is_valid():
        bookings = BookingRequest.objects.for_user(request.user)
        if form.cleaned_data["business"]:
            bookings = bookings.filter(session__business__slug=form.cleaned_data["business"])
        rows = report_module.cancellation_report(
            bookings, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        fmt = request.GET.get("format")
        if fmt:
            if not request.user.has_perm(EXPORT_PERMISSION):
                raise PermissionDenied
            if fmt not in FORMATS:
                raise Http404("Unknown format.")
            return _report_file(rows, fmt)
    grouped = report_module.by_business(rows)
    charts = [(name, cancellation_chart(name, weeks), weeks) for name, weeks in grouped.items()]
    query = {key: value for key, value in data.items() if key != "format"}
    return TemplateResponse(
        request,
        "admin/booking/report/cancellations.html",
        _context(
            request,
            "Cancellation report",
            form=form,
            charts=charts,
            rows=rows,
            query=query,
            formats=list(FORMAT_LABELS.items()),
            can_export=request.user.has_perm(EXPORT_PERMISSION),
        ),
    )


def _report_file(rows: list[report_module.WeekRow], fmt_name: str) -> HttpResponseBase:
    """The report's table as a file, rendered by its resource like every export."""
    download = service.download(
        CancellationReportResource(), rows, FORMATS[fmt_name], name="cancellation-report"
    )
    return response_for(download)
