from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("booking.api.urls")),
    path("booking/", include("booking.urls")),
    path("anymail/", include("anymail.urls")),  # email tracking webhooks
]
