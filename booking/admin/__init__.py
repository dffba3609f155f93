"""The staff backoffice: one module per admin area (registered on import)."""

from booking.admin import bookings, businesses, sessions, settings

__all__ = ["bookings", "businesses", "sessions", "settings"]
