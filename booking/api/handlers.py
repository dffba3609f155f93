"""Error pages that answer JSON under /api/ (never an HTML page from an API).

Wired as the project's handler400/404/500; outside /api/ they defer to Django's
own pages. (With DEBUG on, Django shows its technical pages instead, as always.)
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from booking.api.responses import json_error
from booking.services.exceptions import InvalidInput


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        # Django refused the request (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too
        # many fields): bad input, with the code every other bad input has.
        return json_error(400, "bad request", code=InvalidInput.code)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return json_error(404, "not found", code="not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error(500, "internal server error", code="server_error")
    return defaults.server_error(request)
