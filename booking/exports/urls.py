"""The export pages, mounted at /admin/booking/ before the admin's own URLs (project/urls.py)."""

from django.contrib import admin
from django.urls import path

from booking.exports import views

app_name = "booking_exports"

urlpatterns = [
    path("exports/", admin.site.admin_view(views.jobs), name="jobs"),
    path("exports/new/", admin.site.admin_view(views.new_export), name="new"),
    path(
        "exports/<int:pk>/download/",
        admin.site.admin_view(views.download),
        name="download",
    ),
    path(
        "report/cancellations/",
        admin.site.admin_view(views.cancellation_report),
        name="cancellation_report",
    ),
]
