"""The project's URLs plus the baseline: a bare view doing one primary-key lookup."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from booking.models import BookingRequest
from project.urls import urlpatterns as project_urlpatterns


def bare_lookup(request: HttpRequest, pk: int) -> JsonResponse:
    row = BookingRequest.all_objects.values("reference", "status").get(pk=pk)
    return JsonResponse(row)


urlpatterns = [path("bench/bare/<int:pk>/", bare_lookup), *project_urlpatterns]
