"""Every URL of the JSON APIs (namespace "api"): each endpoint's route is its declaration's.

`Endpoint.path(view)` refuses a view that is not bound to that endpoint, so a
route cannot drift from the contract (`booking.api.contract`).
"""

from django.urls import path

from booking.api.client import views as client
from booking.api.contract import client as client_contract
from booking.api.contract import staff as staff_contract
from booking.api.contract import waitlist as waitlist_contract
from booking.api.openapi import openapi_json
from booking.api.staff import views as staff
from booking.api.staff import waitlist as staff_waitlist

app_name = "api"

urlpatterns = [
    client_contract.BOOKING.path(client.booking_detail),
    client_contract.CANCEL.path(client.cancel_booking),
    staff_contract.BOOKINGS.path(staff.booking_list),
    staff_contract.BOOKING.path(staff.booking_detail),
    waitlist_contract.WAITLIST_ENDPOINT.path(staff_waitlist.waitlist_view),
    path("openapi.json", openapi_json, name="openapi"),
]
