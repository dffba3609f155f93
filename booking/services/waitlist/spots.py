"""A session's spots: who holds them, and the lock under which they are counted.

A spot is held by a booking holding a seat (`BookingQuerySet.seated`: pending or
approved, or in a past session attended or no-show; not deleted) or by an open
waitlist offer (offered, its window not yet closed: the client was promised
the spot). `room_in` is what is left. Every path that takes a spot (a claim, an
automatic enrolment, a move in, a restore, an offer) counts it under the
session's row lock (`lock_sessions`), and every path that locks a session and
its bookings locks the session first, so two of them queue on the session
instead of both taking its last spot, and never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from booking.models import BookingRequest, Session, SessionStatus
from booking.waitlist.models import WaitlistEntry, WaitlistMode, WaitlistStatus


def session_ids(sessions: Iterable[Session | int]) -> list[int]:
    return sorted({s.pk if isinstance(s, Session) else int(s) for s in sessions})


def lock_sessions(sessions: Iterable[Session | int]) -> dict[int, Session]:
    """Lock these sessions in primary-key order (with their business and settings loaded)."""
    ids = session_ids(sessions)
    if not ids:
        return {}
    rows = (
        Session.objects.filter(pk__in=ids)
        .select_related("business__booking_settings")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    return {session.pk: session for session in rows}


def _count(rows: QuerySet) -> Coalesce:
    counted = rows.order_by().values("session").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _taken(*, now: datetime, excluding: WaitlistEntry | None = None) -> CombinedExpression:
    """Spots held, per session: bookings holding a seat and open offers (a subquery each).

    A seat is held as "booked" counts it (`BookingQuerySet.seated`): for a session not
    yet started, its active bookings; for a past one, also who came or did not show.
    """
    bookings = BookingRequest.objects.filter(session=OuterRef("pk")).seated()
    offers = WaitlistEntry.objects.filter(session=OuterRef("pk")).holding(now=now)
    if excluding is not None:
        offers = offers.exclude(pk=excluding.pk)
    return _count(bookings) + _count(offers)


def rooms(
    sessions: Iterable[Session | int], *, now: datetime, excluding: WaitlistEntry | None = None
) -> dict[int, int]:
    """Free spots of each session: capacity less active bookings and open offers (one
    query; call it under the sessions' locks). `excluding`: the offer being claimed."""
    return rooms_among(
        Session.objects.filter(pk__in=session_ids(sessions)), now=now, excluding=excluding
    )


def rooms_among(
    sessions: QuerySet[Session], *, now: datetime, excluding: WaitlistEntry | None = None
) -> dict[int, int]:
    """`rooms` of the sessions of a queryset (one query, however many: no list of ids)."""
    rows = sessions.annotate(taken=_taken(now=now, excluding=excluding))
    return {pk: max(capacity - taken, 0) for pk, capacity, taken in
            rows.values_list("pk", "capacity", "taken")}  # fmt: skip


def room_in(session: Session, *, now: datetime, excluding: WaitlistEntry | None = None) -> int:
    """Free spots of one (locked) session; see `rooms`."""
    return rooms([session], now=now, excluding=excluding).get(session.pk, 0)


def booked_count(session: Session) -> int:
    """The session's seats taken by live bookings (`BookingQuerySet.seated`): for a session
    open to bookings, the active ones; for a past one, also who came or did not show."""
    return BookingRequest.objects.filter(session=session).live().seated().count()


def takes_offers(session: Session, *, now: datetime) -> bool:
    """Whether a freed spot of `session` goes to its waitlist: a scheduled session that
    has not started, of a business whose waitlist is on."""
    return (
        session.status == SessionStatus.SCHEDULED
        and session.starts_at > now
        and session.business.booking_settings.waitlist_mode != WaitlistMode.OFF
    )


def with_waiting_clients_query(*, now: datetime) -> QuerySet[Session]:
    """Sessions that may offer a spot now: scheduled, not started, the waitlist on,
    someone waiting."""
    waiting = WaitlistEntry.objects.filter(session=OuterRef("pk"), status=WaitlistStatus.WAITING)
    return (
        Session.objects.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now)
        .exclude(business__booking_settings__waitlist_mode=WaitlistMode.OFF)
        .filter(Exists(waiting))
    )


def with_waiting_clients(ids: Iterable[int], *, now: datetime) -> list[int]:
    """Of these sessions, those that may offer a spot now (one query; usually none
    qualifies, and nothing more is done)."""
    ids = list(ids)
    if not ids:
        return []
    rows = with_waiting_clients_query(now=now).filter(pk__in=ids).order_by("pk")
    return list(rows.values_list("pk", flat=True))


def sessions_with_room(*, now: datetime) -> list[int]:
    """Sessions that may offer a spot now and have one no booking or offer holds (the
    expiry sweep's safety net: a spot freed while the waitlist was off, say)."""
    rows = (
        with_waiting_clients_query(now=now)
        .annotate(taken=_taken(now=now))
        .filter(capacity__gt=F("taken"))
    )
    return list(rows.values_list("pk", flat=True))
