"""The staff JSON API: list, read, act on and purge a business's bookings.

The views adapt, nothing more: read the input their endpoint declares
(`booking.api.contract.staff`, strictly: anything else is a 400), scope every
lookup to the caller's businesses (`for_user`, so another business's booking is
a 404 like an unknown one), call one service with the caller as actor and the
request's IP and user agent, and answer with the declared shape (or the refusal).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse

from booking.api.contract.endpoints import Operation
from booking.api.contract.staff import (
    BOOKING,
    BOOKINGS,
    DELETE_ACTION,
    PATCH_ACTIONS,
    PATCH_OPTIONS,
)
from booking.api.responses import read_json_object
from booking.api.staff.guard import staff_endpoint
from booking.api.staff.serializers import history, with_api_related
from booking.audit import RequestContext
from booking.models import BookingRequest, Business
from booking.services.actions import ACTIONS, CONFIRMED
from booking.services.exceptions import (
    BookingNotFound,
    ConfirmationRequired,
    InvalidInput,
    NotPermitted,
)

NOT_FOUND = "booking not found"


LIST = BOOKINGS.operation("GET")
DETAIL, ACT, PURGE = (BOOKING.operation(method) for method in ("GET", "PATCH", "DELETE"))


@staff_endpoint(BOOKINGS)
def booking_list(request: HttpRequest) -> JsonResponse:
    query = LIST.read(request)
    manager = BookingRequest.all_objects if query["include_deleted"] else BookingRequest.objects
    bookings = manager.for_user(request.user)
    if query["status"]:
        bookings = bookings.filter(status=query["status"])
    if query["business"]:
        # An unknown slug and another business's slug get the same answer.
        if not Business.objects.for_user(request.user).filter(slug=query["business"]).exists():
            raise InvalidInput(f"no business {query['business']!r} among yours")
        bookings = bookings.filter(session__business__slug=query["business"])
    if query["phone"]:
        bookings = bookings.with_phone(query["phone"], user=request.user)

    paginator = Paginator(with_api_related(bookings), query["page_size"])
    if query["page"] > paginator.num_pages:
        raise BookingNotFound(
            f"page {query['page']} does not exist; there are {paginator.num_pages}",
            num_pages=paginator.num_pages,
        )
    page = paginator.page(query["page"])

    def link(number: int) -> str:
        params = {**request.GET.dict(), "page": number}
        return f"{request.path}?{urlencode(params)}"

    return LIST.answer(
        {
            "bookings": page,
            "total_count": paginator.count,
            "filters": query,
            "pagination": {
                "page": page.number,
                "page_size": query["page_size"],
                "num_pages": paginator.num_pages,
                "next": link(page.next_page_number()) if page.has_next() else None,
                "previous": link(page.previous_page_number()) if page.has_previous() else None,
            },
        }
    )


@staff_endpoint(BOOKING)
def booking_detail(request: HttpRequest, booking_id: int) -> JsonResponse:
    if request.method == "PATCH":
        return _act(request, booking_id)
    if request.method == "DELETE":
        return _purge(request, booking_id)
    booking = _find(request, booking_id)
    records = list(BookingRequest.history.filter(id=booking.pk).select_related("history_user"))
    return DETAIL.answer({"booking": booking, "history": history(records)})


def _find(request: HttpRequest, booking_id: int) -> BookingRequest:
    """The caller's booking (soft-deleted too), or 404 whether unknown or not theirs."""
    booking = (
        with_api_related(BookingRequest.all_objects.for_user(request.user))
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise BookingNotFound(NOT_FOUND)
    return booking


def _ensure_permitted(request: HttpRequest, names: tuple[str, ...]) -> None:
    if not any(request.user.has_perm(ACTIONS[name].permission) for name in names):
        raise NotPermitted(f"you do not have permission to {names[0].replace('_', '-')} bookings")


def _act(request: HttpRequest, booking_id: int) -> JsonResponse:
    # Permission before input: a user who may do none of the actions gets 403
    # whatever they sent, and a named action's permission is checked before the
    # rest of the body is validated.
    _ensure_permitted(request, PATCH_ACTIONS)
    data = read_json_object(request)
    if data.get("action") in PATCH_ACTIONS:
        _ensure_permitted(request, (data["action"],))
    command = ACT.parse_body(data)
    booking = _find(request, booking_id)
    result = ACTIONS[command["action"]].run(
        booking,
        actor=request.user,
        reason=command["reason"],
        context=RequestContext.from_request(request),
        options={option.name: command[option.name] for option in PATCH_OPTIONS},
    )
    changed = result.raise_for_single()
    return _success(ACT, result.verb, _find(request, changed.pk))


def _purge(request: HttpRequest, booking_id: int) -> JsonResponse:
    _ensure_permitted(request, (DELETE_ACTION.name,))  # 403 before any input is read
    command = PURGE.read(request)
    booking = _find(request, booking_id)
    if command["confirm"] != booking.reference:
        raise ConfirmationRequired(
            "to purge a booking, send confirm equal to its reference; nothing was deleted"
        )
    result = DELETE_ACTION.run(
        booking,
        actor=request.user,
        reason=command["reason"],
        context=RequestContext.from_request(request),
        options={
            **{option.name: command[option.name] for option in DELETE_ACTION.asked_options},
            CONFIRMED.name: True,
        },
    )
    return _success(PURGE, result.verb, result.raise_for_single())


def _success(operation: Operation, verb: str, booking: BookingRequest) -> JsonResponse:
    return operation.answer({"message": f"Booking {booking.reference} {verb}", "booking": booking})
