from django.urls import include, path

from booking.api.openapi import openapi_json

app_name = "api"

urlpatterns = [
    path("booking/client/", include("booking.api.client.urls")),
    path("booking/manage/", include("booking.api.staff.urls")),
    path("openapi.json", openapi_json, name="openapi"),
]
