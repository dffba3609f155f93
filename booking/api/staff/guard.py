"""The door of the staff API: who may call it, with which methods, and JSON for every refusal.

Browser-style session authentication: the session cookie identifies the user and
Django's CSRF middleware guards the unsafe methods (its refusals are JSON under
/api/, see `booking.api.responses.csrf_failure`). A caller who is not logged in
gets a JSON 401, never the admin's redirect to its login page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie

from booking.actors import User
from booking.api.contract.endpoints import Endpoint
from booking.api.responses import error_response, json_error
from booking.services.exceptions import BookingError

# Reading bookings needs what the admin's change list needs: view or change.
READ_PERMISSIONS = ("booking.view_bookingrequest", "booking.change_bookingrequest")

View = Callable[..., HttpResponse]


def may_read_bookings(user: User) -> bool:
    return any(user.has_perm(permission) for permission in READ_PERMISSIONS)


def staff_endpoint(endpoint: Endpoint) -> Callable[[View], View]:
    """Bind an API view to its endpoint: its methods (405), login (401), staff with read
    access (403).

    Domain refusals (`BookingError`) raised by the view become their JSON error.
    Responses always carry the CSRF cookie, so a front end that starts with a GET
    has the token its PATCH and DELETE need.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return json_error(401, "authentication required", code="not_authenticated")
            if not (user.is_active and user.is_staff and may_read_bookings(user)):
                return json_error(403, "you do not have access to the bookings", code="forbidden")
            try:
                return view(request, *args, **kwargs)
            except BookingError as error:
                return error_response(error)

        return endpoint.bind(ensure_csrf_cookie(wrapper))

    return decorate
