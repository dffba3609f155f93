"""What every model of the app shares: audited history and money fields.

A leaf of the data layer: `booking.models` and the other packages' models
(`booking.fees.models`, ...) import it, and it imports none of them, so no model
module needs another to be loaded first.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

# No 0/O/1/I: a reference is read aloud and typed from paper. 32 symbols ** 8 = 2**40.
# Bookings and waitlist entries draw theirs from the same alphabet.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8


def draw_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


# Money: prices and fees have two decimal places, in the business's currency.
MONEY_DIGITS = 10
MONEY_PLACES = 2
NOT_NEGATIVE = MinValueValidator(Decimal(0))
PERCENT_VALIDATORS = [NOT_NEGATIVE, MaxValueValidator(Decimal(100))]


class AuditContext(models.Model):
    """Extra columns on every historical record: where the change came from."""

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        abstract = True


class AuditedRecords(HistoricalRecords):
    """simple-history's records, also for a many-to-many change made from the other side.

    `user.businesses.add(business)` sends m2m_changed with the user as instance
    (reverse=True); simple-history would look for `user.history` and fail. The
    change is recorded on each business it touched instead.
    """

    def m2m_changed(
        self, instance: Any, action: str, attr: str, pk_set: Any, reverse: bool, **kwargs: Any
    ) -> None:
        if not reverse:
            return super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
        model = kwargs["model"]  # the model that holds the history (the forward side)
        if action == "pre_clear":
            # Which rows a clear touches is only known before it happens.
            owners = model._default_manager.filter(**{attr: instance})
            instance._history_cleared_pks = set(owners.values_list("pk", flat=True))
            return
        if action == "post_clear":
            pk_set = getattr(instance, "_history_cleared_pks", set())
        if action in ("post_add", "post_remove", "post_clear"):
            for owner in model._default_manager.filter(pk__in=pk_set or ()):
                self.create_historical_record(owner, "~")


def audited(**kwargs: Any) -> HistoricalRecords:
    return AuditedRecords(bases=[AuditContext], **kwargs)
