"""The staff backoffice: one module per admin area (registered on import)."""

from booking.admin import bookings, businesses, outbox, sessions, settings, waitlist

__all__ = ["bookings", "businesses", "outbox", "sessions", "settings", "waitlist"]
