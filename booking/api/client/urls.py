"""The public client API, under /api/booking/client/ (namespace "api")."""

from django.urls import path

from booking.api.client import views

urlpatterns = [
    path("<str:reference>/", views.booking_detail, name="client-booking"),
    path("<str:reference>/cancel/", views.cancel_booking, name="client-cancel"),
]
