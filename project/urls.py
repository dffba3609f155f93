from typing import cast

from django.contrib import admin
from django.urls import include, path, reverse_lazy

# The admin's "View site": the clients' page, where a booking reference is typed.
admin.site.site_url = cast(str, reverse_lazy("booking:find"))

urlpatterns = [
    # Export jobs and the cancellation report: before the admin, which owns the rest of /admin/.
    path("admin/booking/", include("booking.exports.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("booking.api.urls")),
    path("booking/", include("booking.urls")),
    path("anymail/", include("anymail.urls")),  # email tracking webhooks
]

# JSON error pages under /api/, Django's own elsewhere.
handler400 = "booking.api.handlers.bad_request"
handler404 = "booking.api.handlers.page_not_found"
handler500 = "booking.api.handlers.server_error"
