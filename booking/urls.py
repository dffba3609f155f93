"""The public pages (namespace "booking")."""

from django.urls import path

from booking.public import offers, views

app_name = "booking"

urlpatterns = [
    path("cancel/", views.find_page, name="find"),
    path("cancel/<str:reference>/", views.cancel_page, name="cancel"),
    path("cancel/<str:reference>/link/", views.request_link, name="cancel-link"),
    # The waitlist's claim page (booking.services.links.CLAIM_PATH).
    path("waitlist/<str:reference>/", offers.offer_page, name="waitlist"),
]
