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
from collections.abc import Sequence
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

from booking.admin.move_targets import MoveTargetWidget, describe
from booking.audit import RequestContext
from booking.models import REASON_MAX_LENGTH, BookingQuerySet, BookingRequest
from booking.services import Skip
from booking.services import exceptions as exc
from booking.services.actions import CONFIRMED, Action, Option
from booking.services.lifecycle import GONE
from booking.services.lifecycle.moves import eligible_targets
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


class TargetSessionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return describe(obj)


def option_field(option: Option, user: Any = None) -> forms.Field:
    """The form field asking for an option: a checkbox, ticked by default; or, for a
    session, a select of the sessions this user may target (scheduled, future, theirs)."""
    if option.kind == "session":
        return TargetSessionField(
            queryset=eligible_targets(user),
            label=option.label,
            help_text=option.help_text + " Type part of its title or its business's name.",
            widget=MoveTargetWidget(attrs={"style": "min-width: 32em"}),
        )
    return forms.BooleanField(
        required=False, initial=option.default, label=option.label, help_text=option.help_text
    )


class ConfirmationForm(forms.Form):
    """The shared confirmation form: a reason, options to tick, a word to type.

    Every confirmation page uses it: the booking actions build it from their
    declaration (`for_action`), the erasure with its own reason help and word.
    """

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
        typed_confirmation: str = "",
        reason_required: bool = False,
        reason_help: str = "",
        options: Sequence[Option] = (),
        unoffered: Sequence[Option] = (),
        user: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.typed_confirmation = typed_confirmation
        self.options, self.unoffered = list(options), list(unoffered)
        reason = self.fields["reason"]
        reason.required = reason_required
        if reason_help:
            reason.help_text = reason_help
        if reason_required:
            reason.help_text = (
                "Required: this action or a selected booking's business asks for a reason. "
                + reason.help_text
            )
        for option in self.options:
            self.fields[option.name] = option_field(option, user)
        if typed_confirmation:
            self.fields["confirmation"] = forms.CharField(
                max_length=20,
                strip=False,
                required=False,
                label=f"Type {typed_confirmation} to confirm",
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )

    @classmethod
    def for_action(
        cls,
        data: Any,
        action: Action,
        *,
        reason_required: bool,
        offer_email_options: bool,
        user: Any = None,
    ) -> ConfirmationForm:
        """The form of a declared action: its asked options (email ones where an email goes)."""
        offered = [
            option
            for option in action.asked_options
            if offer_email_options or not option.only_with_email
        ]
        return cls(
            data,
            typed_confirmation=action.typed_confirmation,
            reason_required=reason_required,
            options=offered,
            unoffered=[option for option in action.asked_options if option not in offered],
            user=user,
        )

    def option_values(self) -> dict[str, Any]:
        """The options as the service takes them; the page's confirmation is given.

        An option not offered (no email would go out) is passed as "no", as an
        unticked box is: a POST without `notify_client` means "do not notify".
        """
        values: dict[str, Any] = {option.name: False for option in self.unoffered}
        values.update({option.name: self.cleaned_data[option.name] for option in self.options})
        return {**values, CONFIRMED.name: True}

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"]
        if value != self.typed_confirmation:
            raise ValidationError(
                f"Type {self.typed_confirmation} exactly, in capitals, to confirm."
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


def from_change_form(request: HttpRequest) -> bool:
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
    if from_change_form(request) and result.done and not _still_exists(result.done[0]):
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
    select_across = is_select_across(request)
    confirmed = request.POST.get("post") == "yes"
    if confirmed:
        # The page was seen: act without previewing again (the service re-checks each
        # booking under its lock, and emails only those its rule says). The email
        # options are taken as posted: unticked, or absent, is "do not notify".
        form = _form(request.POST, action, queryset, offer_email_options=action.emails is not None,
                     user=request.user)  # fmt: skip
        if form.is_valid():
            return _run(modeladmin, request, queryset, action, form, select_across=select_across)

    queryset = cast(BookingQuerySet, queryset).with_related().order_by("pk")
    sample = list(queryset[:PREVIEW_LIMIT])
    total = len(sample) if len(sample) < PREVIEW_LIMIT else queryset.count()
    truncated = total > len(sample)
    outcomes = preview(action, sample, now=timezone.now())
    # An email option is offered where an email would go (or might: not all previewed).
    offer = action.emails is not None and (truncated or any(o.emails for o in outcomes))
    form = _form(request.POST if confirmed else None, action, queryset,
                 offer_email_options=offer, user=request.user)  # fmt: skip
    if confirmed:
        form.is_valid()  # the page shows what was wrong

    found = {booking.pk for booking in sample}
    missing = 0 if select_across or truncated else len(set(_selected_ids(request)) - found)
    will_change = sum(outcome.changes for outcome in outcomes)
    return confirmation_page(
        modeladmin,
        request,
        title=action.title,
        action_name=action.admin_name,
        form=form,
        danger=action.danger,
        # The ids the user may act on, or (select across) what was posted.
        posted_ids=None if select_across else sorted(found),
        original=sample[0] if from_change_form(request) and sample else None,
        can_act=will_change > 0 or truncated,
        confirm_label=_confirm_label(action, will_change, truncated),
        action=action,
        outcomes=outcomes[:LIST_LIMIT],
        unlisted=total - min(len(outcomes), LIST_LIMIT),
        summary=summarise(action, outcomes),
        unpreviewed=total - len(sample),
        missing=missing,
        total=total,
        will_change=will_change,
        selected_note=ngettext("%(count)d booking selected", "%(count)d bookings selected", total)
        % {"count": total},
    )


def _confirm_label(action: Action, will_change: int, truncated: bool) -> str:
    if truncated:
        return f"Yes, {action.verb} the selected bookings"
    return ngettext(
        "Yes, %(verb)s %(count)d booking", "Yes, %(verb)s %(count)d bookings", will_change
    ) % {"verb": action.verb, "count": will_change}


def _form(
    data: Any, action: Action, queryset: QuerySet, *, offer_email_options: bool, user: Any
) -> ConfirmationForm:
    """The action's form: a reason required where a selected booking's business asks for one."""
    reason_required = action.reason_required or (
        action.reason_policy
        and queryset.filter(session__business__booking_settings__require_deletion_reason=True)
        .exists()
    )  # fmt: skip
    return ConfirmationForm.for_action(
        data,
        action,
        reason_required=reason_required,
        offer_email_options=offer_email_options,
        user=user,
    )


def is_select_across(request: HttpRequest) -> bool:
    """The change list's "select all N": the filters in the URL name the selection."""
    return request.POST.get("select_across") == "1" and not from_change_form(request)


def confirmation_page(
    modeladmin: Any,
    request: HttpRequest,
    *,
    title: str,
    action_name: str,
    form: ConfirmationForm,
    confirm_label: str,
    danger: str = "",
    posted_ids: list[int] | None = None,
    original: Any = None,
    can_act: bool = True,
    hidden: Sequence[tuple[str, str]] = (),
    template: str = CONFIRMATION_TEMPLATE,
    **extra: Any,
) -> TemplateResponse:
    """The one confirmation page of every admin action that changes bookings.

    It posts back to the URL it came from, with the action's name (in the
    change list's or the change form's field), the selection, `post=yes`, the
    form's fields and any `hidden` pairs. `posted_ids` None posts back the
    selected ids as they came (with the select-across flag, which the change
    list's filters in the URL turn back into the same queryset). A page with
    its own table of outcomes extends the template and fills its `outcome` block.
    """
    select_across = is_select_across(request)
    ids = _selected_ids(request) if posted_ids is None else posted_ids
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": modeladmin.model._meta,
        "action_name": action_name,
        "action_field": CHANGE_FORM_ACTION_FIELD if from_change_form(request) else "action",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "posted_ids": ids,
        "select_across": select_across,
        "hidden": hidden,
        "original": original,
        "danger": danger,
        "can_act": can_act,
        "confirm_label": confirm_label,
        "form": form,
        "back_url": request.get_full_path(),
        "media": modeladmin.media + form.media,
        **extra,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, template, context)
