"""An endpoint of the API, declared once: its URL, methods, input, answers and words.

The URL patterns (`Endpoint.path`), the method check (405 with `Allow`), the
input a view reads (`Operation.read`), the answer it sends (`Operation.answer`)
and the OpenAPI document (`booking.api.openapi`) all come from these objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import URLPattern, path

from booking.api.contract.types import Shape, Type
from booking.api.responses import json_error, read_json_object
from booking.services.exceptions import InvalidInput
from booking.services.text import storable

View = Callable[..., HttpResponse]

# Who may call an operation: anyone, a logged-in staff member, and with the CSRF token.
PUBLIC, SESSION, SESSION_AND_CSRF = "public", "session", "session+csrf"


@dataclass(frozen=True)
class Answer:
    """One response an operation may give: its status, what it means, its body's shape."""

    status: int
    description: str
    shape: Shape | None = None  # None: the common error shape


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One method of an endpoint.

    `query`: the query-string parameters (each field one parameter, all optional).
    `body`: the JSON body. `body_or_query`: each of the body's fields may come in
    the query string instead (never both for one name).
    """

    method: str
    operation_id: str
    summary: str
    description: str = ""
    security: str = PUBLIC
    query: Shape | None = None
    body: Shape | None = None
    body_required: bool = False
    body_or_query: bool = False
    answers: tuple[Answer, ...] = ()

    def answer(self, value: Any, status: int = 200) -> JsonResponse:
        """The declared body of a `status` answer, read from `value` (an object or a mapping)."""
        shape = next(answer.shape for answer in self.answers if answer.status == status)
        if shape is None:
            raise ImproperlyConfigured(f"{self.operation_id} declares no body for {status}")
        return JsonResponse(shape.dump(value), status=status)

    def parse_body(self, data: dict[str, Any]) -> dict[str, Any]:
        assert self.body is not None, f"{self.operation_id} declares no body"
        return self.body.parse("request body", data)

    def read(self, request: HttpRequest) -> dict[str, Any]:
        """The operation's input, parsed: every declared field, its default when absent."""
        if self.body_or_query:
            return self._read_either(request)
        values: dict[str, Any] = {}
        if self.query is not None:
            values |= parse_query(self.query, request.GET)
        if self.body is not None:
            values |= self.parse_body(read_json_object(request))
        return values

    def _read_either(self, request: HttpRequest) -> dict[str, Any]:
        assert self.body is not None
        data = read_json_object(request)
        query = single_values(request.GET, tuple(sorted(self.body.fields)))
        both = sorted(set(data) & set(query))
        if both:
            raise InvalidInput(f"given in both the body and the query string: {', '.join(both)}")
        values = self.body.parse("request body", data)
        for name, text in query.items():
            values[name] = self.body.fields[name].parse_text(name, text)
        return values


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """A URL of the API (`route`, Django's syntax, below /api/) and its operations."""

    route: str
    name: str
    tag: str
    operations: tuple[Operation, ...]
    path_params: dict[str, Type] = field(default_factory=dict)
    # Methods answered but left out of the document (HEAD beside GET).
    undocumented: tuple[str, ...] = ()

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(sorted({op.method for op in self.operations} | set(self.undocumented)))

    def operation(self, method: str) -> Operation:
        method = "GET" if method == "HEAD" else method
        return next(op for op in self.operations if op.method == method)

    def path(self, view: View) -> URLPattern:
        """The URL pattern of this endpoint, served by a view bound to it (`bind`)."""
        if getattr(view, "endpoint", None) is not self:
            raise ImproperlyConfigured(f"{view!r} is not bound to the endpoint {self.name!r}")
        return path(self.route, view, name=self.name)

    def bind(self, view: View) -> View:
        """Answer only the declared methods (JSON 405 with `Allow` otherwise); mark the view."""
        guarded = allow(*self.methods)(view)
        guarded.endpoint = self  # type: ignore[attr-defined]
        return guarded


def allow(*methods: str) -> Callable[[View], View]:
    """The one method check of the APIs: any other method is a JSON 405 naming the allowed."""
    allowed = ", ".join(sorted(methods))

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = json_error(
                    405, f"method {request.method} not allowed", code="method_not_allowed"
                )
                response["Allow"] = allowed
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def single_values(params: QueryDict, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as one value per name, refusing unknown and repeated names."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", allowed=sorted(allowed))
    repeated = sorted(name for name, values in params.lists() if len(values) > 1)
    if repeated:
        raise InvalidInput(f"parameter(s) given more than once: {', '.join(repeated)}")
    return {name: storable(name, params.get(name, "")) for name in params}


def parse_query(shape: Shape, params: QueryDict) -> dict[str, Any]:
    """Every parameter of `shape`: parsed from its text, or its default when absent."""
    given = single_values(params, tuple(shape.fields))
    return {
        name: kind.parse_text(name, given[name]) if name in given else kind.default
        for name, kind in shape.fields.items()
    }
