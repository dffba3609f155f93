"""Tenant scope: the rows of a model that a user may see.

Every tenant-owned model's queryset derives from `TenantQuerySet` (the booking
models, the email outbox). It lives apart from `booking.models` so that the
models of the app's other packages (`booking.emails.models`) can build on it
without importing `booking.models`, which registers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.apps import apps
from django.db import models

if TYPE_CHECKING:
    from booking.actors import User


M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M]):
    """Rows visible to a user: all for a superuser, else their businesses' rows.

    Scoping uses a subquery on business membership rather than a join, so the
    result needs no DISTINCT and can still be locked with select_for_update.
    """

    business_path = "business"

    def for_user(self, user: User) -> Self:
        if not (user.is_active and user.is_staff):
            return self.none()
        if user.is_superuser:
            return self
        businesses = apps.get_model("booking", "Business")._default_manager
        member_of = businesses.filter(staff=user.pk).values("pk")
        return self.filter(**{f"{self.business_path}__in": member_of})
