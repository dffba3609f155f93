"""One confirmation step for every state-changing booking action.

Each action (approve, reject, cancel, soft delete, restore, purge) is described
by a `BookingAction` and handled by `confirm_or_run`, from the change list and
from a booking's change form alike:

1. the first POST (the admin's action form) renders
   `admin/booking/action_confirmation.html`: every selected booking with what
   will happen to it, previewed with the pure rules of `booking.services.rules`;
2. the page posts back to the URL it came from, with `post=yes`, the reason,
   `notify_client` where an email applies and, for purge, `confirmation=PURGE`;
3. only then does one service call act, under its own lock, with the admin's
   tenant-scoped queryset; it re-checks every rule, so a stale or tampered page
   changes nothing it should not. One message sums up the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.admin import ActionLocation, helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from booking.audit import RequestContext
from booking.models import REASON_MAX_LENGTH, BookingQuerySet, BookingRequest, BookingStatus
from booking.services import ACTIONS, Skip, rules
from booking.services import exceptions as exc
from booking.services.lifecycle import GONE
from booking.services.rules import Refusal
from booking.services.text import is_id

# Rows listed on the page; rows whose outcome is previewed (the rest are checked
# the same way by the service when the page is confirmed).
LIST_LIMIT = 100
PREVIEW_LIMIT = 1000
# The preview assumes a required reason will be given: the form insists on it.
GIVEN_REASON = "(reason given)"

CONFIRMATION_TEMPLATE = "admin/booking/action_confirmation.html"
CHANGE_FORM_ACTION_FIELD = f"{ActionLocation.CHANGE_FORM.value}-action"

Check = Callable[[BookingRequest, str], Refusal | None]
Emails = Callable[[BookingRequest, datetime], bool]


@dataclass(frozen=True)
class BookingAction:
    """What one admin action does, in the words its confirmation page uses."""

    service_name: str  # the key in booking.services.ACTIONS
    title: str  # "Cancel bookings"
    verb: str  # "cancel", for "Yes, cancel 3 bookings"
    will: str  # "will be cancelled"
    check: Check
    emails: Emails | None = None  # would this booking's client be emailed?
    reason_policy: bool = False  # the business's require_deletion_reason applies
    typed_confirmation: str = ""  # the word to type, for an irreversible action
    danger: bool = False

    @property
    def service(self) -> Callable[..., Any]:
        return ACTIONS[self.service_name]


def _status_check(target: str) -> Check:
    return lambda booking, reason: rules.check_status_change(booking, target)


def _cancellation_email(booking: BookingRequest, now: datetime) -> bool:
    return rules.policy_of(booking).send_cancellation_emails


def _removal_email(booking: BookingRequest, now: datetime) -> bool:
    return not booking.is_deleted and rules.is_active_future(booking, now=now)


APPROVE = BookingAction(
    "approve", "Approve bookings", "approve", "will be approved",
    _status_check(BookingStatus.APPROVED),
)  # fmt: skip
REJECT = BookingAction(
    "reject", "Reject bookings", "reject", "will be rejected",
    _status_check(BookingStatus.REJECTED),
)  # fmt: skip
CANCEL = BookingAction(
    "cancel", "Cancel bookings", "cancel", "will be cancelled",
    _status_check(BookingStatus.CANCELLED), emails=_cancellation_email,
)  # fmt: skip
SOFT_DELETE = BookingAction(
    "soft_delete", "Delete bookings (soft delete)", "delete", "will be deleted (restorable)",
    lambda booking, reason: rules.check_soft_delete(booking, reason=reason),
    emails=_removal_email, reason_policy=True,
)  # fmt: skip
RESTORE = BookingAction(
    "restore", "Restore deleted bookings", "restore", "will be restored",
    lambda booking, reason: rules.check_restore(booking),
)  # fmt: skip
PURGE = BookingAction(
    "purge", "Purge bookings permanently", "purge", "will be purged permanently",
    lambda booking, reason: rules.check_purge(booking, reason=reason),
    emails=_removal_email, reason_policy=True, typed_confirmation="PURGE", danger=True,
)  # fmt: skip


class ConfirmationForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=f"Recorded in the history and, where an email goes out, told to the client. "
        f"At most {REASON_MAX_LENGTH} characters.",
    )
    notify_client = forms.BooleanField(
        required=False, initial=True, label="Notify the client by email"
    )
    confirmation = forms.CharField(required=False, max_length=20, strip=False)

    def __init__(
        self,
        *args: Any,
        action: BookingAction,
        reason_required: bool,
        offer_notify: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["reason"].required = reason_required
        if reason_required:
            self.fields["reason"].help_text = (
                "Required: a selected booking's business asks for a reason. "
                + self.fields["reason"].help_text
            )
        if not offer_notify:
            del self.fields["notify_client"]
        if action.typed_confirmation:
            word = action.typed_confirmation
            self.fields["confirmation"].label = f"Type {word} to confirm"
            self.fields["confirmation"].widget.attrs["autocomplete"] = "off"
        else:
            del self.fields["confirmation"]

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if value != self.action.typed_confirmation:
            raise ValidationError(
                f"Type {self.action.typed_confirmation} exactly, in capitals, to confirm."
            )
        return value


@dataclass(frozen=True)
class Outcome:
    booking: BookingRequest
    refusal: Refusal | None
    emails: bool

    @property
    def changes(self) -> bool:
        return self.refusal is None


def preview(
    action: BookingAction, bookings: list[BookingRequest], *, now: datetime
) -> list[Outcome]:
    """What the action would do to each booking, by the same rules the service applies."""
    outcomes = []
    for booking in bookings:
        refusal = action.check(booking, GIVEN_REASON)
        emails = refusal is None and action.emails is not None and action.emails(booking, now)
        outcomes.append(Outcome(booking, refusal, emails))
    return outcomes


def summarise(action: BookingAction, outcomes: list[Outcome]) -> list[tuple[int, str]]:
    """("2", "will be cancelled"), ("1", "skipped: already cancelled"), largest first."""
    counts = Counter(
        action.will if outcome.changes else f"skipped: {outcome.refusal.message}"  # type: ignore[union-attr]
        for outcome in outcomes
    )
    return [(count, text) for text, count in counts.most_common()]


def _selected_ids(request: HttpRequest) -> list[int]:
    return [int(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if is_id(pk)]


def _from_change_form(request: HttpRequest) -> bool:
    return CHANGE_FORM_ACTION_FIELD in request.POST


def _run(
    modeladmin: Any,
    request: HttpRequest,
    queryset: QuerySet,
    action: BookingAction,
    form: ConfirmationForm,
    *,
    select_across: bool,
) -> HttpResponse | None:
    kwargs: dict[str, Any] = {
        "actor": request.user,
        "reason": form.cleaned_data["reason"],
        "context": RequestContext.from_request(request),
    }
    if action.emails is not None:
        # Absent from the POST (unticked, or not offered) means "do not notify".
        kwargs["notify_client"] = form.cleaned_data.get("notify_client", False)
    if action.typed_confirmation:
        kwargs["confirmed"] = True
    try:
        result = action.service(queryset, **kwargs)
    except exc.BookingError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return None
    if not select_across:
        # Selected ids outside the scoped queryset: purged meanwhile, or not this user's.
        found = {booking.pk for booking in result.done} | {s.booking_id for s in result.skipped}
        result.skipped.extend(
            Skip(None, pk, GONE) for pk in _selected_ids(request) if pk not in found
        )
    level = messages.SUCCESS if not result.skipped else messages.WARNING
    modeladmin.message_user(request, result.summary(), level)
    if action.service_name == "purge" and result.done and _from_change_form(request):
        opts = modeladmin.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return None


def confirm_or_run(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet, action: BookingAction, name: str
) -> HttpResponse | None:
    """The admin action `name`: render the confirmation page, or act on `post=yes`.

    `queryset` is what the admin hands an action: its tenant-scoped queryset,
    narrowed to the selection (and the change list's filters).
    """
    now = timezone.now()
    queryset = cast(BookingQuerySet, queryset).with_related().order_by("pk")
    select_across = request.POST.get("select_across") == "1" and not _from_change_form(request)
    sample = list(queryset[:PREVIEW_LIMIT])
    total = len(sample) if len(sample) < PREVIEW_LIMIT else queryset.count()
    truncated = total > len(sample)
    outcomes = preview(action, sample, now=now)

    reason_required = (
        action.reason_policy
        and queryset.filter(session__business__booking_settings__require_deletion_reason=True)
        .exists()
    )  # fmt: skip
    offer_notify = action.emails is not None and (
        truncated or any(outcome.emails for outcome in outcomes)
    )
    confirmed = request.POST.get("post") == "yes"
    form = ConfirmationForm(
        request.POST if confirmed else None,
        action=action,
        reason_required=reason_required,
        offer_notify=offer_notify,
    )
    if confirmed and form.is_valid():
        return _run(modeladmin, request, queryset, action, form, select_across=select_across)

    selected = _selected_ids(request)
    found = {booking.pk for booking in sample}
    missing = 0 if select_across or truncated else len(set(selected) - found)
    will_change = sum(outcome.changes for outcome in outcomes)
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": action.title,
        "subtitle": None,
        "opts": opts,
        "action": action,
        "action_name": name,
        "action_field": CHANGE_FORM_ACTION_FIELD if _from_change_form(request) else "action",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        # Post back what was selected: the ids the user may act on, or (select
        # across) the page's ids plus the flag, which the change list's filters
        # in the URL turn back into the same queryset.
        "posted_ids": selected if select_across else sorted(found),
        "select_across": select_across,
        "original": sample[0] if _from_change_form(request) and sample else None,
        "outcomes": outcomes[:LIST_LIMIT],
        "unlisted": total - min(len(outcomes), LIST_LIMIT),
        "summary": summarise(action, outcomes),
        "unpreviewed": total - len(sample),
        "missing": missing,
        "total": total,
        "will_change": will_change,
        "can_act": will_change > 0 or truncated,
        "selected_note": ngettext(
            "%(count)d booking selected", "%(count)d bookings selected", total
        )
        % {"count": total},
        "confirm_label": ngettext(
            "Yes, %(verb)s %(count)d booking", "Yes, %(verb)s %(count)d bookings", will_change
        )
        % {"verb": action.verb, "count": will_change}
        if not truncated
        else f"Yes, {action.verb} the selected bookings",
        "form": form,
        "back_url": request.get_full_path(),
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)
