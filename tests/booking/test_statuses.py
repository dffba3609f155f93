"""The status declarations: every status has its transitions and its words everywhere.

Iterating `BookingStatus` here makes a new status without a declaration fail
loudly, instead of a KeyError on some page later.
"""

from __future__ import annotations

import pytest

from booking.admin.history import EVENTS
from booking.models import BookingStatus
from booking.public.notices import STATUS_WORDS
from booking.services.rules import TRANSITIONS
from booking.services.statuses import STATUSES

ALL_STATUSES = list(BookingStatus)


def test_every_status_is_declared_and_nothing_else():
    assert set(STATUSES) == set(BookingStatus)


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_a_status_moves_only_to_declared_statuses(status):
    assert TRANSITIONS[status] <= set(BookingStatus)
    assert status not in TRANSITIONS[status]


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_every_page_has_words_for_the_status(status):
    declaration = STATUSES[status]
    assert declaration.already and declaration.event and declaration.client_word
    assert STATUS_WORDS[status] == declaration.client_word
    assert ("status", status.value) in {(event.field, event.value) for event in EVENTS}
