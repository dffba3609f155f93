"""A client cancels their own booking: find it, prove it is theirs, cancel, in one call.

No staff actor and no permission: the client's authority is their `Proof` (the
booking's email or phone, or a signed link's token). The public page and the
client API only parse input into a `Proof` and render what
`cancel_booking_as_client` returns or raises, so the proof, the rate limits and
the policy are the same on either. A client who asks to be emailed a signed
link (`request_cancel_link`) is served here too: this module sits above both
`links` (which makes and checks the tokens) and `notifications` (which writes
the email), so neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus
from booking.services import charges, links, notifications, rules, throttle
from booking.services import exceptions as exc
from booking.services.identity import booking_phone_matches, email_matches, identity_matches
from booking.services.lifecycle.engine import Change, Operation, clean_reason
from booking.services.rules import Refusal
from booking.services.text import normalize_reference

# The longest contact details a client may type (RFC 5321's address limit).
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 40
NOT_FOUND = "booking not found"
NOT_VERIFIED = "the contact details do not match this booking"


def find_booking(raw_reference: object) -> BookingRequest:
    """The live booking with this reference, its session, business and policy; else 404."""
    reference = normalize_reference(raw_reference)
    if reference is None:
        raise exc.BookingNotFound(NOT_FOUND)
    try:
        # get(), not filter().first(): the reference is unique, and no ORDER BY is needed.
        return BookingRequest.objects.with_related().get(reference=reference)
    except BookingRequest.DoesNotExist:
        raise exc.BookingNotFound(NOT_FOUND) from None


def look_up(raw_reference: object, *, ip: str | None, guard_found: bool = True) -> BookingRequest:
    """`find_booking` for a client: an unknown reference counts against the IP's limit.

    RateLimited (429) while the IP is at its failure limit, whether or not the
    reference exists (`guard_found=False` skips that read where the caller's
    next step checks the IP's limit anyway). ServiceUnavailable (503) when the
    limiter cannot be reached.
    """
    try:
        booking = find_booking(raw_reference)
    except exc.BookingNotFound:
        throttle.guard_lookup(ip, found=False)
        raise
    if guard_found:
        throttle.guard_lookup(ip, found=True)
    return booking


@dataclass(frozen=True)
class Proof:
    """How a client proves the booking is theirs: contact details, or a signed link.

    Every detail given must match (an email and a phone given together must both
    be the booking's). All of them are compared, so the time taken does not say
    which one failed.
    """

    email: str = ""
    phone: str = ""
    token: str = ""

    @property
    def given(self) -> bool:
        return bool(self.email or self.phone or self.token)

    def verify(self, booking: BookingRequest) -> bool:
        if self.token:
            return links.token_matches(self.token, booking)
        results = []
        if self.email:
            results.append(email_matches(self.email, booking.client_email))
        if self.phone:
            results.append(booking_phone_matches(self.phone, booking))
        return bool(results) and all(results)


def cancel_booking_as_client(
    *,
    reference: object,
    proof: Proof,
    reason: object = "",
    accepted_fee: object = None,
    context: RequestContext = SYSTEM,
    now: datetime | None = None,
) -> BookingRequest:
    """A client cancels their own booking, within the business's policy.

    The booking owes the fee `charges.cancellation_quote` gives at `now`, under
    the lock. With `accepted_fee` (the amount the client was quoted: "12.50"), a
    different fee due refuses the cancel (FeeChanged, 409) and changes nothing.

    Bad input (the reason) is refused before an attempt counts. The proof is
    then checked read-only under the rate limits of the reference and the
    client's IP (`throttle.VerificationLimiter.verified`: RateLimited while
    locked out, each failure counted), so failed attempts never open a
    transaction or lock a row. A proof that holds is checked again against the
    locked booking, before any policy check, so that nothing about the booking
    is revealed to someone who cannot prove it is theirs; then the policy, then
    the cancel. A lookup of an unknown reference counts against the IP's limit,
    and a valid signed link is not refused by the reference's (only the IP's).
    Raises BookingNotFound, InvalidInput, RateLimited, IdentityNotVerified,
    PolicyForbids, DeadlinePassed or InvalidTransition (a double submit), with
    the booking in the error's details where it was found, or ServiceUnavailable
    when the limiter cannot be reached (nothing verified or changed: fail
    closed); the client and the business are emailed after commit.
    """
    # The limiter below checks the IP's limit: a found reference needs no read of its own.
    booking = look_up(reference, ip=context.ip_address, guard_found=False)
    reason = clean_reason(reason)
    accepted = charges.parse_accepted_fee(accepted_fee)
    limiter = throttle.VerificationLimiter(reference=booking.reference, ip=context.ip_address)
    if not limiter.verified(lambda: proof.verify(booking), signed=bool(proof.token)):
        raise exc.IdentityNotVerified(NOT_VERIFIED, booking=booking)
    now = now or timezone.now()
    return _cancel(booking, proof, reason=reason, accepted=accepted, context=context, now=now)


def _cancel(
    booking: BookingRequest,
    proof: Proof,
    *,
    reason: str,
    accepted: Decimal | None,
    context: RequestContext,
    now: datetime,
) -> BookingRequest:
    def check(locked: BookingRequest) -> Refusal | None:
        if locked.is_deleted:
            return Refusal(NOT_FOUND, exc.BookingNotFound)
        if not proof.verify(locked):
            return Refusal(NOT_VERIFIED, exc.IdentityNotVerified)
        return rules.check_client_cancel(locked, now=now) or check_fee(locked)

    def check_fee(locked: BookingRequest) -> Refusal | None:
        # The fee due now, under the lock, is what is charged: the quote's function.
        fee = charges.cancellation_quote(locked, now=now).fee
        if accepted is not None and fee != accepted:
            return Refusal(charges.FEE_CHANGED, exc.FeeChanged)
        return None

    change = Change(actor=None, reason=reason, context=context, now=now)  # no staff: the system

    def apply(ready: list[BookingRequest]) -> None:
        fields = {
            "status": BookingStatus.CANCELLED,
            "cancelled_at": now,
            "cancelled_by": None,
            "cancelled_by_client": True,
            "cancellation_reason": reason,
        }
        change.update_with_fees(
            ready, fields, lambda booking: charges.cancellation_quote(booking, now=now).fee
        )
        notifications.bookings_cancelled(ready, by_client=True, notify_client=True)

    operation = Operation("cancelled", check, apply, frees_spots=True)
    return change.run(operation, [booking.pk]).raise_for_single()


def request_cancel_link(
    *, reference: str, email: str = "", phone: str = "", ip: str | None = None
) -> None:
    """Email a signed cancel link to the booking's own address, when the details match.

    The caller answers the same whatever happens here, so that nobody learns
    whether the details matched, and in the same time: the request does the same
    work either way (the limits, one lookup, one comparison, one task enqueued),
    and the email is rendered, written and sent by the worker
    (`deliver_cancel_link`), for matching details only. Nothing is sent when the
    booking is unknown, deleted or no longer cancellable online, nor past the
    per-booking and per-IP limits (every request counts, so the client's mailbox
    cannot be flooded).
    """
    if not throttle.allow_link_request(reference=reference, ip=ip):
        return
    # The business comes along: a phone number is read with its country.
    booking = (
        BookingRequest.objects.select_related("session__business")
        .filter(reference=reference)
        .first()
    )
    matched = booking is not None and identity_matches(booking=booking, email=email, phone=phone)
    _enqueue(reference, matched)


def _enqueue(reference: str, matched: bool) -> None:
    """One task per request, matched or not: the task carries no personal data."""
    send_cancel_link.enqueue(reference, matched)


def deliver_cancel_link(reference: str, matched: bool) -> bool:
    """The worker's half of `request_cancel_link`: queue the email when the details matched."""
    if not matched:
        return False
    booking = BookingRequest.objects.with_related().filter(reference=reference).first()
    if booking is None or rules.check_client_cancel(booking, now=timezone.now()) is not None:
        return False
    with transaction.atomic():
        notifications.cancellation_link_requested(booking)
    return True


@task(queue_name="email")
def send_cancel_link(reference: str, matched: bool) -> bool:
    """The worker's task of a link request (run by `db_worker`, the email queue)."""
    return deliver_cancel_link(reference, matched)
