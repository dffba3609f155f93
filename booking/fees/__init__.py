"""Cancellation fees: the tiers a business sets (the rules live in booking.services.fees)."""
