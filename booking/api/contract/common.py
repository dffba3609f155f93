"""What both APIs share: the error body, and the values several shapes use."""

from __future__ import annotations

from booking.api.contract.types import (
    Const,
    DateTime,
    Enum,
    Int,
    Money,
    Shape,
    Str,
    Type,
)
from booking.models import REASON_MAX_LENGTH, REFERENCE_LENGTH, BookingStatus, SessionStatus

DATETIME = DateTime()
MONEY = Money()
STATUS = Enum(values=tuple(BookingStatus.values))
# The service checks the length (its own error code, `reason_too_long`); null reads as "".
REASON = Str(documented_max=REASON_MAX_LENGTH, nullable=True)
REFERENCE = Str(min_length=REFERENCE_LENGTH, max_length=REFERENCE_LENGTH, pattern="^[A-Z2-9]+$")

# Rendered by `booking.api.responses.json_error` (every error of every API goes through it).
ERROR = Shape(
    name="Error",
    description="Every error of every API: `success` false, a sentence, a stable code, "
    "and details where they help (`allowed` values, a deadline refusal's policy, …).",
    fields={"success": Const(value=False), "error": Str(), "code": Str()},
    optional=("code",),
    closed=False,
)
# A session the business cancelled says so: its status and the reason it gave.
SESSION_STATE: dict[str, Type] = {
    "status": Enum(values=tuple(SessionStatus.values)),
    "cancellation_reason": Str(description="Empty unless cancelled."),
}

USER = Shape(
    name="User",
    fields={"id": Int(source="pk"), "username": Str(source=lambda user: user.get_username())},
)
