"""What staff search a booking by: its reference, client name, email and phone, as one text.

Django's admin search asks, per word, whether any of the four fields contains
it (an OR over four columns). Here each word is one condition on the four
fields joined by a newline (`SearchedText`): the same answer for a word without
a newline, since it then lies within one field (a word holding one is also
asked field by field). One condition per word lets PostgreSQL estimate how many
bookings a name matches, and one trigram index serve it.

On PostgreSQL that text is kept beside the booking, in `BookingSearch` (one row
per booking, written by database triggers when a booking is inserted or one of
its four fields changes; migration 0019), and its trigram GIN index lives
there. A status change never rewrites a booking in place (it is not a HOT
update: status is indexed), so every index of the bookings' table gets a new
entry for each changed booking; a trigram index on that table added ~60
entries per booking to every cancel. Beside it, a status change writes nothing
to the search. SQLite (development, tests) reads the joined fields from the
booking itself: it has no trigram index to spare, nor bookings enough to need one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import reduce
from operator import and_, or_

from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet, TextField
from django.db.models.lookups import IContains

SEARCHED_FIELDS = ("reference", "client_name", "client_email", "client_phone")
# Joins them: a newline, which a word typed in the one-line search box cannot hold.
SEARCH_SEPARATOR = "\n"


class SearchedText(Func):
    """A booking's searched fields joined by SEARCH_SEPARATOR (what `BookingSearch.text` holds)."""

    template = "(%(expressions)s)"
    arg_joiner = f" || '{SEARCH_SEPARATOR}' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(*(F(name) for name in SEARCHED_FIELDS))


class BookingSearch(models.Model):
    """A booking's searched text, on PostgreSQL (empty on SQLite, which searches the booking).

    Written only by the database: migration 0019's triggers insert, update and
    delete it with its booking. No code here writes it.
    """

    # No foreign key constraint: the delete trigger removes a deleted booking's row.
    booking = models.OneToOneField(
        "booking.BookingRequest",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    text = models.TextField()

    class Meta:
        app_label = "booking"
        db_table = "booking_search"

    def __str__(self) -> str:
        return self.text.replace(SEARCH_SEPARATOR, " · ")


def _separated(texts: Iterable[str]) -> Q:
    """Each text holding the separator is also in one field (it might span two in the joined)."""
    condition = Q()
    for text in texts:
        if SEARCH_SEPARATOR in text:
            in_one = (Q(**{f"{name}__icontains": text}) for name in SEARCHED_FIELDS)
            condition &= reduce(or_, in_one)
    return condition


def contains_every(texts: Sequence[str], *, using: str) -> Q:
    """Each of `texts` is in the booking's reference, client name, email or phone, ignoring case.

    One `icontains` per text on the joined fields: on PostgreSQL those kept in
    `BookingSearch`, all in one subquery (the trigram index intersects the texts'
    matches in one scan), elsewhere the booking's own.
    """
    if not texts:
        return Q()
    if connections[using].vendor == "postgresql":
        found = BookingSearch.objects.using(using).all()
        for text in texts:
            found = found.filter(text__icontains=text)
        condition = Q(pk__in=found.values("booking_id"))
    else:
        condition = reduce(and_, (Q(IContains(SearchedText(), text)) for text in texts))
    return condition & _separated(texts)


def contains_any(texts: Sequence[str], *, using: str, or_in: QuerySet | None = None) -> Q:
    """One of `texts` is in the joined fields, or the booking's id is among `or_in`'s.

    Candidates, for callers that then ask what they want of each (an email
    equal to one of `texts`, a phone number as typed): on PostgreSQL one
    `id IN (… UNION ALL …)`, which reads each index once (an OR of subqueries
    would test every booking against them).
    """
    if connections[using].vendor == "postgresql":
        parts = [
            BookingSearch.objects.using(using).filter(text__icontains=text).values("booking_id")
            for text in texts
        ]
        if or_in is not None:
            parts.append(or_in)
        if len(parts) < 2:
            return Q(pk__in=parts[0] if parts else [])
        return Q(pk__in=parts[0].union(*parts[1:], all=True))
    condition = reduce(or_, (Q(IContains(SearchedText(), text)) for text in texts), Q(pk__in=[]))
    if or_in is not None:
        condition |= Q(pk__in=or_in)
    return condition
