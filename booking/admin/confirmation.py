"""One confirmation step for every state-changing booking action.

Each action is declared once in `booking.services.actions` (an `Action`) and
handled here by `confirm_or_run`, from the change list and from a booking's
change form alike, without naming any action:

1. the first POST (the admin's action form) renders
   `admin/booking/action_confirmation.html`: every selected booking with what
   will happen to it, previewed with the action's pure rule;
2. the page posts back to the URL it came from, with `post=yes`, the reason,
   the action's declared options (`notify_client` where an email applies) and,
   for an action with a typed confirmation, that word (`confirmation=PURGE`);
3. only then does one service call act (`Action.run`), under its own lock, with
   the admin's tenant-scoped queryset; it re-checks every rule, so a stale or
   tampered page changes nothing it should not. One message sums up the result.
"""

from __future__ import annotations

from collections import Counter
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
from booking.models import REASON_MAX_LENGTH, BookingQuerySet, BookingRequest
from booking.services import Skip
from booking.services import exceptions as exc
from booking.services.actions import CONFIRMED, Action, Option
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


def option_field(option: Option) -> forms.Field:
    """The form field asking for an option: a checkbox, ticked by default."""
    return forms.BooleanField(
        required=False, initial=option.default, label=option.label, help_text=option.help_text
    )


class ConfirmationForm(forms.Form):
    """The reason, the action's asked options, and its typed confirmation word, if any."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=f"Recorded in the history and, where an email goes out, told to the client. "
        f"At most {REASON_MAX_LENGTH} characters.",
    )

    def __init__(
        self,
        *args: Any,
        action: Action,
        reason_required: bool,
        offer_email_options: bool,
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
        self.options = [
            option
            for option in action.asked_options
            if offer_email_options or not option.only_with_email
        ]
        for option in self.options:
            self.fields[option.name] = option_field(option)
        if action.typed_confirmation:
            word = action.typed_confirmation
            self.fields["confirmation"] = forms.CharField(
                max_length=20, strip=False, required=False, label=f"Type {word} to confirm"
            )
            self.fields["confirmation"].widget.attrs["autocomplete"] = "off"

    def option_values(self) -> dict[str, Any]:
        """The options as the service takes them; the page's confirmation is given.

        An option not offered (no email would go out) is passed as "no", as an
        unticked box is: a POST without `notify_client` means "do not notify".
        """
        values: dict[str, Any] = {option.name: False for option in self.action.asked_options}
        values.update({option.name: self.cleaned_data[option.name] for option in self.options})
        return {**values, CONFIRMED.name: True}

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


def preview(action: Action, bookings: list[BookingRequest], *, now: datetime) -> list[Outcome]:
    """What the action would do to each booking, by the same rules the service applies."""
    outcomes = []
    for booking in bookings:
        refusal = action.check(booking, GIVEN_REASON)
        emails = refusal is None and action.emails is not None and action.emails(booking, now)
        outcomes.append(Outcome(booking, refusal, emails))
    return outcomes


def summarise(action: Action, outcomes: list[Outcome]) -> list[tuple[int, str]]:
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
    action: Action,
    form: ConfirmationForm,
    *,
    select_across: bool,
) -> HttpResponse | None:
    try:
        result = action.run(
            queryset,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            context=RequestContext.from_request(request),
            options=form.option_values(),
        )
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
    if _from_change_form(request) and result.done and not _still_exists(result.done[0]):
        # The booking's own page is gone with it (purged): back to the list.
        opts = modeladmin.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return None


def _still_exists(booking: BookingRequest) -> bool:
    return BookingRequest.all_objects.filter(pk=booking.pk).exists()


def confirm_or_run(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet, action: Action
) -> HttpResponse | None:
    """The admin action of `action`: render the confirmation page, or act on `post=yes`.

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
    offer_email_options = action.emails is not None and (
        truncated or any(outcome.emails for outcome in outcomes)
    )
    confirmed = request.POST.get("post") == "yes"
    form = ConfirmationForm(
        request.POST if confirmed else None,
        action=action,
        reason_required=reason_required,
        offer_email_options=offer_email_options,
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
        "action_name": action.admin_name,
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
