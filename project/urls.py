from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Export jobs and the cancellation report: before the admin, which owns the rest of /admin/.
    path("admin/booking/", include("booking.exports.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("booking.api.urls")),
    path("booking/", include("booking.urls")),
]
