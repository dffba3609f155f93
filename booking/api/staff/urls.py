"""The staff API under /api/booking/manage/."""

from django.urls import path

from booking.api.staff import views

urlpatterns = [
    path("", views.booking_list, name="staff-bookings"),
    path("<int:booking_id>/", views.booking_detail, name="staff-booking"),
]
