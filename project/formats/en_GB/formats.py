"""Every datetime Django renders by itself (read-only fields, inlines) in the staff format."""

from booking.times import DATETIME_FORMAT

SHORT_DATETIME_FORMAT = DATETIME_FORMAT
