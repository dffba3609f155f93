"""The staff API's waitlist views: read a session's queue, add a client to it.

Thin: parse what the endpoint declares (`booking.api.contract.waitlist`), scope
the session to the caller's businesses (another business's is "not yours", as an
unknown one is), call the service, answer with the declared shape.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from booking.api.contract.waitlist import WAITLIST_ENDPOINT
from booking.api.staff.guard import staff_endpoint
from booking.audit import RequestContext
from booking.models import Session, WaitlistEntry
from booking.services import waitlist
from booking.services.exceptions import InvalidInput, NotPermitted

READ, JOIN = (WAITLIST_ENDPOINT.operation(method) for method in ("GET", "POST"))
NOT_YOURS = "the session does not exist or is not yours"


@staff_endpoint(WAITLIST_ENDPOINT)
def waitlist_view(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        return _join(request)
    if not request.user.has_perm("booking.view_waitlistentry"):
        raise NotPermitted("you do not have permission to view the waitlist")
    query = READ.read(request)
    if query["session"] is None:
        raise InvalidInput("session is required: the id of one of your sessions")
    session = (
        Session.objects.for_user(request.user)
        .select_related("business")
        .filter(pk=query["session"])
        .first()
    )
    if session is None:
        raise InvalidInput(NOT_YOURS)
    entries = (
        WaitlistEntry.objects.filter(session=session)
        .select_related("session", "booking")
        .order_by("created_at", "pk")
    )
    counts = waitlist.queue_counts(session)
    spots = {
        "capacity": session.capacity,
        "booked": counts.booked,
        "waiting": counts.waiting,
        "offered": counts.offered,
    }
    return READ.answer({"session": session, "spots": spots, "entries": entries})


def _join(request: HttpRequest) -> JsonResponse:
    # Permission before input: a caller who may not add learns nothing about it.
    if not request.user.has_perm("booking.add_waitlistentry"):
        raise NotPermitted("you do not have permission to add clients to the waitlist")
    command = JOIN.read(request)
    entry = waitlist.join(
        command["session"],
        client_name=command["client_name"],
        client_email=command["client_email"],
        client_phone=command["client_phone"],
        actor=request.user,
        context=RequestContext.from_request(request),
    )
    entry = WaitlistEntry.objects.select_related("session", "booking").get(pk=entry.pk)
    message = f"{entry.client_name} is {entry.get_status_display().lower()} ({entry.reference})"
    return JOIN.answer({"message": message, "entry": entry}, status=201)
