"""Dependency faults answer 503 (try again), never a 500.

Such faults reach here as exceptions from any view: a PostgreSQL lock or
statement timeout (`DATABASE_LOCK_TIMEOUT_MS`, `DATABASE_STATEMENT_TIMEOUT_MS`;
the transaction has rolled back, so nothing changed) and an unreachable cache
(Redis) behind something that needs it, such as the admin login's throttling
(and, on SQLite, a write lock held past its busy timeout).
Under /api/ the answer is the APIs' JSON error with `code: "unavailable"`,
elsewhere a short page; both carry `Retry-After`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from psycopg import errors as pg_errors
from redis.exceptions import RedisError

from booking.api.responses import json_error
from booking.services.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

RETRY_AFTER = 30
# lock_timeout and statement_timeout (SQLSTATE 55P03 and 57014).
TIMEOUTS = (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)


def is_unavailable(error: BaseException) -> bool:
    """Is this a dependency that may well answer if asked again shortly?"""
    if isinstance(error, ServiceUnavailable | RedisError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, sqlite3.OperationalError):  # SQLite's busy timeout ran out
        return "locked" in str(cause)
    return isinstance(cause, TIMEOUTS)


def unavailable_response(request: HttpRequest, retry_after: int = RETRY_AFTER) -> HttpResponse:
    message = "The service is busy or a dependency is unavailable; nothing was changed."
    if request.path.startswith("/api/"):
        response: HttpResponse = json_error(
            503, f"{message} Try again shortly.", code="unavailable", retry_after=retry_after
        )
    else:
        body = render_to_string("503.html", {"message": message}, request=request)
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    return response


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("503 for %s %s: %r", request.method, request.path, exception)
        retry_after = RETRY_AFTER
        if isinstance(exception, ServiceUnavailable):
            retry_after = int(exception.details.get("retry_after", RETRY_AFTER))
        return unavailable_response(request, retry_after)
