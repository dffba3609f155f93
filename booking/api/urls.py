from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("booking/client/", include("booking.api.client.urls")),
    path("booking/manage/", include("booking.api.staff.urls")),
]
