"""The staff actions on bookings, each declared once.

An `Action` states everything about one action (after Wagtail's `BulkAction`):
its names (the API's "cancel", the admin's "cancel_bookings"), the service that
does it and, through the service, the permission it needs; the words of its
confirmation page and menu entry; the pure rule its preview uses; whether an
email may go out; whether the business's reason policy applies; the word to type
for an irreversible one; how the staff API reaches it; and the options the
service accepts beyond actor, reason and context. Every interface reads this
table and never names an action:

- the admin's action menu, its permission filter and the confirmation page
  (`booking.admin.bookings`, `booking.admin.confirmation`), whose form fields
  come from the declared options;
- the staff API's contract (`booking.api.contract.staff`: the PATCH body's
  `action` enum and options, which its views parse and the OpenAPI document
  shows) and its dispatch (`booking.api.staff.views`);
- the booking timeline's names for the changes (`booking.admin.history`);
- the tests, which iterate the table, so a new action is tested for its
  permission, its admin entry, its API reach and its timeline entry.

Adding an action is two steps:

1. write its bulk service, keyword-only (`actor`, `reason`, `context`, `now` and
   any option), guarded by `@requires("<app>.<codename>", to="<verb>")` — the
   permission is written there once — in the module of its family under
   `booking.services.lifecycle`;
2. declare it below with `Action(...)` and add it to `ACTIONS`.

Options are declared with `Option`: a flag a person or a client program sets
(`NOTIFY_CLIENT`), a session to act towards (`TARGET_SESSION`: a select of the
eligible sessions on the confirmation page, an integer id in the API), or
`CONFIRMED`, which the interface sets from its own
confirmation gesture (the typed word in the admin; `confirm` equal to the
reference in the API) and which an action on `PATCH` may not need.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.utils import timezone

from booking.actors import Actor
from booking.audit import SYSTEM, RequestContext
from booking.models import BookingRequest, BookingStatus, FeeStatus
from booking.services import charges, lifecycle, rules
from booking.services.lifecycle import Selection, StaffService, attendance
from booking.services.results import BulkResult
from booking.services.rules import Refusal

Check = Callable[[BookingRequest, str], Refusal | None]
Emails = Callable[[BookingRequest, datetime], bool]


@dataclass(frozen=True, kw_only=True)
class Option:
    """A keyword argument of a service beyond actor, reason and context."""

    name: str  # the service's keyword, the confirmation form's field, the API's field
    label: str  # the confirmation form's label
    help_text: str = ""
    description: str = ""  # the API documentation's
    default: Any = True
    # "flag": a boolean (a checkbox; a JSON true/false). "session": a session's id (a
    # select of the sessions the actor may target; a JSON integer), required.
    kind: Literal["flag", "session"] = "flag"
    # False: not asked of anyone; the interface sets it from its own confirmation step.
    asked: bool = True
    # Offered on the confirmation page only where a selected booking would get an email.
    only_with_email: bool = False


NOTIFY_CLIENT = Option(
    name="notify_client",
    label="Notify the client by email",
    help_text="Unticked, nobody is emailed about this change.",
    description="Email the client where the action does. Default true.",
    only_with_email=True,
)
CHARGE_FEE = Option(
    name="charge_fee",
    label="Charge the late-cancellation fee",
    help_text="Unticked, the client owes nothing for this cancellation. Ticked, each booking "
    "owes the fee its terms set for cancelling now, as if the client had cancelled.",
    description="Record each booking's late-cancellation fee due now. Default false.",
    default=False,
)
TARGET_SESSION = Option(
    name="session",
    label="Move to session",
    help_text="A scheduled, future session of the same business; "
    "bookings that do not fit are skipped.",
    description="The id of the session to move to (action `move`): a scheduled, "
    "future session of the same business.",
    default=None,
    kind="session",
)
CONFIRMED = Option(
    name="confirmed",
    label="Confirmed",
    default=False,
    asked=False,
)


ANY_VALUE = object()  # an `Event` whose field changed to any value (a move's session)


@dataclass(frozen=True)
class Event:
    """How the booking's timeline names a change: `field` set to `value` is `label`.

    `companions` are the fields the change sets beside it, not listed again. A
    change of status needs none: it is named by its status's declaration.
    """

    field: str
    value: object
    label: str
    companions: frozenset[str] = frozenset()


DELETION_FIELDS = frozenset({"deleted_at", "deleted_by", "deletion_reason"})
WAIVER_FIELDS = frozenset({"fee_waived_at", "fee_waived_by", "fee_waiver_reason"})


@dataclass(frozen=True, kw_only=True)
class Action:
    """One staff action on bookings: everything the admin, the API and the tests need."""

    name: str  # the API's name and this table's key: "cancel"
    service: StaffService
    title: str  # the confirmation page's title: "Cancel bookings"
    verb: str  # "cancel", for "Yes, cancel 3 bookings"
    will: str  # the preview of a booking it changes: "will be cancelled"
    description: str  # the action menu's entry for one booking: "Cancel this booking"
    description_plural: str  # and for a selection: "Cancel selected bookings"
    check: Check  # the pure rule the preview applies (the service re-checks it under lock)
    emails: Emails | None = None  # would this booking's client be emailed?
    reason_policy: bool = False  # the business's `require_deletion_reason` applies
    typed_confirmation: str = ""  # the word to type, for an irreversible action
    danger: str = ""  # the warning of an irreversible action's confirmation page
    api_method: Literal["PATCH", "DELETE"] = "PATCH"
    options: tuple[Option, ...] = ()
    event: Event | None = None  # the timeline's name for it, unless it changes the status
    reason_required: bool = False  # always needs a reason (whatever the business's policy)
    # The admin action's name when it is not "<name>_bookings" (pinned names).
    admin_action: str = ""

    def __post_init__(self) -> None:
        if self.api_method == "PATCH" and CONFIRMED in self.options:
            raise ValueError(f"{self.name}: an action needing confirmation cannot be on PATCH")
        if self.emails is None and any(option.only_with_email for option in self.options):
            raise ValueError(f"{self.name}: an email option needs `emails` to say when one goes")

    @property
    def admin_name(self) -> str:
        """The admin action's name, the POST `action` value: "cancel_bookings"."""
        return self.admin_action or f"{self.name}_bookings"

    @property
    def permission(self) -> str:
        """The permission staff need: "booking.cancel_bookingrequest" (from the service)."""
        return self.service.permission

    @property
    def asked_options(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if option.asked)

    def run(
        self,
        bookings: Selection,
        *,
        actor: Actor,
        reason: object = "",
        context: RequestContext = SYSTEM,
        options: Mapping[str, bool] | None = None,
    ) -> BulkResult:
        """Call the service with the options it declares, taken from `options`.

        Options the action does not declare are left out, so one form or request
        body serves every action; a declared option not given keeps its default.
        """
        given = options or {}
        kwargs = {option.name: given.get(option.name, option.default) for option in self.options}
        return self.service(bookings, actor=actor, reason=reason, context=context, **kwargs)


def _status_check(target: BookingStatus) -> Check:
    return lambda booking, reason: rules.check_status_change(booking, target)


def _cancellation_email(booking: BookingRequest, now: datetime) -> bool:
    return rules.policy_of(booking).send_cancellation_emails


def _removal_email(booking: BookingRequest, now: datetime) -> bool:
    return not booking.is_deleted and rules.is_active_future(booking, now=now)


def _attendance_check(target: BookingStatus) -> Check:
    return lambda booking, reason: rules.check_attendance(booking, target, now=timezone.now())


def _no_show_fee_email(booking: BookingRequest, now: datetime) -> bool:
    return charges.no_show_fee(booking) > 0


def _restore_email(booking: BookingRequest, now: datetime) -> bool:
    return (
        booking.is_deleted
        and rules.is_active_future(booking, now=now)
        and rules.policy_of(booking).send_cancellation_emails
    )


APPROVE = Action(
    name="approve",
    service=lifecycle.approve_bookings,
    title="Approve bookings",
    verb="approve",
    will="will be approved",
    description="Approve this booking",
    description_plural="Approve selected bookings",
    check=lambda booking, reason: rules.check_approve(booking),
)
REJECT = Action(
    name="reject",
    service=lifecycle.reject_bookings,
    title="Reject bookings",
    verb="reject",
    will="will be rejected",
    description="Reject this booking",
    description_plural="Reject selected bookings",
    check=_status_check(BookingStatus.REJECTED),
)
CANCEL = Action(
    name="cancel",
    service=lifecycle.cancel_bookings,
    title="Cancel bookings",
    verb="cancel",
    will="will be cancelled",
    description="Cancel this booking",
    description_plural="Cancel selected bookings",
    check=_status_check(BookingStatus.CANCELLED),
    emails=_cancellation_email,
    options=(NOTIFY_CLIENT, CHARGE_FEE),
)
SOFT_DELETE = Action(
    name="soft_delete",
    service=lifecycle.soft_delete_bookings,
    title="Delete bookings (soft delete)",
    verb="delete",
    will="will be deleted (restorable)",
    description="Delete this booking (restorable)",
    description_plural="Delete selected bookings (restorable)",
    check=lambda booking, reason: rules.check_soft_delete(booking, reason=reason),
    emails=_removal_email,
    reason_policy=True,
    options=(NOTIFY_CLIENT,),
    event=Event("is_deleted", True, "Deleted", DELETION_FIELDS),
)
RESTORE = Action(
    name="restore",
    service=lifecycle.restore_bookings,
    title="Restore deleted bookings",
    verb="restore",
    will="will be restored",
    description="Restore this booking",
    description_plural="Restore selected bookings",
    check=lambda booking, reason: rules.check_restore(booking),
    emails=_restore_email,
    options=(NOTIFY_CLIENT,),
    event=Event("is_deleted", False, "Restored", DELETION_FIELDS),
)
PURGE = Action(
    name="purge",
    service=lifecycle.purge_bookings,
    title="Purge bookings permanently",
    verb="purge",
    will="will be purged permanently",
    description="Purge this booking permanently",
    description_plural="Purge selected bookings permanently",
    check=lambda booking, reason: rules.check_purge(booking, reason=reason),
    emails=_removal_email,
    reason_policy=True,
    typed_confirmation="PURGE",
    danger="Purged bookings are deleted permanently; "
    "only their final record stays in the audit history.",
    api_method="DELETE",
    options=(NOTIFY_CLIENT, CONFIRMED),
)

MARK_ATTENDED = Action(
    name="mark_attended",
    admin_action="mark_attended",
    service=attendance.mark_attended_bookings,
    title="Mark bookings attended",
    verb="mark attended",
    will="will be marked attended",
    description="Mark this booking attended",
    description_plural="Mark selected bookings attended",
    check=_attendance_check(BookingStatus.ATTENDED),
)
MARK_NO_SHOW = Action(
    name="mark_no_show",
    admin_action="mark_no_show",
    service=attendance.mark_no_show_bookings,
    title="Mark bookings as no-shows",
    verb="mark as no-show",
    will="will be marked as a no-show (the no-show fee is recorded)",
    description="Mark this booking as a no-show",
    description_plural="Mark selected bookings as no-shows",
    check=_attendance_check(BookingStatus.NO_SHOW),
    emails=_no_show_fee_email,
    options=(NOTIFY_CLIENT,),
)
WAIVE_FEE = Action(
    name="waive_fee",
    admin_action="waive_fees",
    service=attendance.waive_fees,
    title="Waive fees",
    verb="waive the fee of",
    will="fee will be waived",
    description="Waive this booking's fee",
    description_plural="Waive the fees of selected bookings",
    check=lambda booking, reason: attendance.check_waiver(booking),
    reason_required=True,
    event=Event("fee_status", FeeStatus.WAIVED, "Fee waived", WAIVER_FIELDS),
)
MOVE = Action(
    name="move",
    admin_action="move_bookings",
    service=lifecycle.move_bookings,
    title="Move bookings to another session",
    verb="move",
    will="will be moved (if the session has room)",
    description="Move this booking to another session",
    description_plural="Move selected bookings to another session",
    check=lambda booking, reason: rules.check_movable(booking),
    emails=lambda booking, now: True,
    options=(TARGET_SESSION, NOTIFY_CLIENT),
    event=Event("session", ANY_VALUE, "Moved"),
)

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        APPROVE, REJECT, CANCEL, SOFT_DELETE, RESTORE, PURGE,
        MARK_ATTENDED, MARK_NO_SHOW, WAIVE_FEE, MOVE,
    )
}  # fmt: skip


def events() -> list[Event]:
    """The timeline's names for the actions' changes that are not changes of status."""
    return [action.event for action in ACTIONS.values() if action.event is not None]


def api_actions(method: Literal["PATCH", "DELETE"]) -> tuple[Action, ...]:
    """The actions the staff API reaches with `method`, in the table's order."""
    return tuple(action for action in ACTIONS.values() if action.api_method == method)


def asked_options(actions: tuple[Action, ...]) -> tuple[Option, ...]:
    """The options any of `actions` asks for, once each, in declaration order."""
    seen: dict[str, Option] = {}
    for action in actions:
        for option in action.asked_options:
            seen.setdefault(option.name, option)
    return tuple(seen.values())
