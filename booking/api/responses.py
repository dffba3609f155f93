"""JSON in and out for the APIs: every error is `{"success": false, "error": …}`.

API views parse with `read_json_object`, call a service, and turn the domain's
refusals into responses with `error_response`; nothing else decides a status code.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse

from booking.services.exceptions import BookingError, InvalidInput
from booking.services.text import storable

MAX_BODY_BYTES = 16 * 1024
# Our bodies are flat objects. Deeper nesting is refused before parsing: the
# parser recurses per level, and on Python 3.12 a few kilobytes of `[[[[…`
# overflow its stack (a RecursionError, which must not become a 500).
MAX_JSON_DEPTH = 16
OPENERS, CLOSERS, QUOTE, BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body` (brackets inside strings do not count).

    Hand-written because the standard parser offers no depth limit: one linear
    pass, run only when the body has enough brackets for the depth to matter.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == BACKSLASH:
                escaped = True
            elif byte == QUOTE:
                in_string = False
        elif byte == QUOTE:
            in_string = True
        elif byte in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in CLOSERS:
            depth -= 1
    return deepest


def json_error(status: int, error: str, **details: Any) -> JsonResponse:
    return JsonResponse({"success": False, "error": error, **details}, status=status)


def error_response(error: BookingError, **details: Any) -> JsonResponse:
    public = {k: v for k, v in error.details.items() if k != "booking"}
    return json_error(error.status_code, error.message, code=error.code, **public, **details)


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, or InvalidInput (400) saying what is wrong."""
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not request.body.strip():
        return {}
    if json_depth(request.body) > MAX_JSON_DEPTH:
        raise InvalidInput(f"request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(request.body)
    # RecursionError: a few kilobytes of `[[[[…` nest deeper than the parser's stack.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object")
    return data


def optional_string(data: dict[str, Any], name: str) -> str:
    """A string field that may be absent; any other type is bad input."""
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return storable(name, value)


def reject_unknown_fields(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", allowed=sorted(allowed))


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    """CSRF refusals: JSON under /api/, Django's own page elsewhere."""
    if request.path.startswith("/api/"):
        return json_error(403, "CSRF verification failed", code="csrf", detail=reason)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)
