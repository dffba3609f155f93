"""The waitlist: freed spots of a full session go at once to the clients waiting for it.

- `offers`: `offer_freed_spots` (called by the life cycle inside the transaction
  that frees a spot), the automatic enrolment, and `expire_offers` (the worker's
  task and `manage.py bookings expire-offers`);
- `claims`: the client's `claim` and `decline` through the signed link, and the
  read-only `find_offer` / `describe` for the claim page;
- `staff`: `join` (add a client), `remove_entries`, `offer_now`;
- `spots`: who holds a session's spots, counted under the session's lock.

The invariant: a session's active bookings never exceed its capacity. Every
path that takes a spot counts it under the session's row lock, sessions are
locked before bookings and entries, and an open offer holds its spot.
"""

from booking.services.waitlist.claims import (
    Answered,
    OfferSummary,
    claim,
    decline,
    describe,
    find_offer,
)
from booking.services.waitlist.offers import expire_offers, offer_freed_spots
from booking.services.waitlist.spots import room_in
from booking.services.waitlist.staff import (
    EntriesResult,
    QueueCounts,
    join,
    offer_now,
    queue_counts,
    remove_entries,
    why_not_join,
)

__all__ = [
    "Answered",
    "EntriesResult",
    "OfferSummary",
    "QueueCounts",
    "claim",
    "decline",
    "describe",
    "expire_offers",
    "find_offer",
    "join",
    "offer_freed_spots",
    "offer_now",
    "queue_counts",
    "remove_entries",
    "room_in",
    "why_not_join",
]
