"""The libraries' undocumented parts the code still relies on, each for a measured reason.

Each test names the code that relies on the part and fails loudly when an upgrade
of Django or django-simple-history changes it, rather than letting that code go
subtly wrong. Where a public way does the same job, the code uses it instead.
"""

from __future__ import annotations

import inspect

from django.db import connection
from django.db.models.deletion import get_candidate_relations_to_delete
from django.test.utils import CaptureQueriesContext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalRecords

from booking.models import BookingRequest, Session
from booking.records import AuditedRecords
from booking.services.lifecycle.deletion import pointing_relations


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_a_foreign_keys_cache_can_be_filled_without_the_descriptor(booking):
    """booking.services.lifecycle's locking fills `booking.session` and
    `session.business` with `field.set_cached_value` (the descriptor's checks cost
    as much as the rest of the loop on a batch of 1000 bookings)."""
    fresh = BookingRequest.objects.get(pk=booking.pk)
    session = Session.objects.select_related("business").get(pk=booking.session_id)

    BookingRequest.session.field.set_cached_value(fresh, session)

    with CaptureQueriesContext(connection) as queries:
        assert fresh.session.business == booking.session.business
    assert len(queries) == 0
    assert BookingRequest.session.field.is_cached(fresh)


def test_historical_models_list_the_fields_they_copy():
    """booking.services.history copies each booking into its history table with one
    INSERT … SELECT over the historical model's `tracked_fields` (instead of one
    record per row through simple-history's signals, which the bulk benchmark
    could not afford)."""
    model = BookingRequest.history.model
    tracked = {field.name for field in model.tracked_fields}

    # The terms a booking was made under never change, so history leaves them out.
    excluded = {"policy_snapshot"}
    assert tracked == {field.name for field in BookingRequest._meta.concrete_fields} - excluded
    for field in model.tracked_fields:
        assert model._meta.get_field(field.name).column == field.column


def test_simple_history_record_hooks_keep_their_signatures():
    """booking.models.AuditedRecords overrides `m2m_changed` (records a change made
    from the other side of a many-to-many) and calls `create_historical_record`."""
    assert parameters(HistoricalRecords.m2m_changed)[:6] == [
        "self",
        "instance",
        "action",
        "attr",
        "pk_set",
        "reverse",
    ]
    assert parameters(HistoricalRecords.create_historical_record)[:3] == [
        "self",
        "instance",
        "history_type",
    ]
    assert AuditedRecords.m2m_changed is not HistoricalRecords.m2m_changed


def test_simple_history_admin_hooks_still_exist():
    """booking.admin.tenancy scopes the history pages through these two hooks."""
    assert parameters(SimpleHistoryAdmin.get_history_queryset) == [
        "self",
        "request",
        "history_manager",
        "pk_name",
        "object_id",
    ]
    assert parameters(SimpleHistoryAdmin.get_historical_record_context_helper) == [
        "self",
        "request",
        "historical_record",
    ]


def test_a_purge_visits_the_relations_djangos_collector_would():
    """booking.services.lifecycle.deletion deletes bookings without the collector (which
    would fetch the rows again and record each one's history a second time), so it must
    honour the same relations' on_delete: those the collector visits."""
    assert set(pointing_relations()) == set(get_candidate_relations_to_delete(BookingRequest._meta))
