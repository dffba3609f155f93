"""The waitlist's data: who waits for a spot in a full session (see `booking.services.waitlist`)."""
