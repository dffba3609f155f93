"""The staff backoffice: one module per admin area."""

from booking.admin import outbox  # noqa: F401  (the email outbox)
