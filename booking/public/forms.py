"""The public page's forms: parse and bound the input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from booking.models import REASON_MAX_LENGTH
from booking.services.lifecycle.client import (
    EMAIL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Proof,
    normalize_reference,
)
from booking.services.links import MAX_TOKEN_LENGTH


class PublicForm(forms.Form):
    """Labels without Django's trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ContactDetailsForm(PublicForm):
    """The booking's email address or phone number (either will do)."""

    client_email = forms.CharField(
        label="Email address",
        max_length=EMAIL_MAX_LENGTH,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    client_phone = forms.CharField(
        label="Or phone number",
        max_length=PHONE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and not (data.get("client_email") or data.get("client_phone")):
            raise forms.ValidationError(
                "Enter the email address or the phone number you booked with.", code="required"
            )
        return data

    def proof(self) -> Proof:
        return Proof(
            email=self.cleaned_data["client_email"], phone=self.cleaned_data["client_phone"]
        )


class ReasonField(forms.CharField):
    def __init__(self) -> None:
        super().__init__(
            label="Reason (optional)",
            max_length=REASON_MAX_LENGTH,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="The business sees this. Up to 1000 characters.",
        )


class AcceptedFeeField(forms.CharField):
    """The fee the page showed (hidden): the cancel charges it, or is refused if it changed."""

    def __init__(self) -> None:
        super().__init__(max_length=20, required=False, widget=forms.HiddenInput)


class CancelForm(ContactDetailsForm):
    reason = ReasonField()
    accepted_fee = AcceptedFeeField()


class SignedLinkCancelForm(PublicForm):
    """With a valid link the client only confirms; the token rides along hidden."""

    token = forms.CharField(max_length=MAX_TOKEN_LENGTH, widget=forms.HiddenInput)
    reason = ReasonField()
    accepted_fee = AcceptedFeeField()

    def proof(self) -> Proof:
        return Proof(token=self.cleaned_data["token"])


class ReferenceForm(PublicForm):
    """The booking reference, typed from the confirmation (any case, spaces allowed)."""

    reference = forms.CharField(
        label="Booking reference",
        max_length=32,
        help_text="8 letters and digits, from your booking confirmation, e.g. K7QM4XTR.",
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_reference(self) -> str:
        typed = self.cleaned_data["reference"]
        reference = normalize_reference(typed.replace(" ", "").replace("-", ""))
        if reference is None:
            raise forms.ValidationError(
                "A reference has 8 letters and digits, such as K7QM4XTR.", code="invalid"
            )
        return reference


class LinkRequestForm(ContactDetailsForm):
    """ "Email me a cancellation link": the same details, the answer always neutral."""

    prefix = "link"


class OfferAnswerForm(PublicForm):
    """The claim page's answer: take the offered spot, or pass it on (the link's token
    rides along hidden)."""

    token = forms.CharField(max_length=MAX_TOKEN_LENGTH, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("claim", "Take the spot"), ("decline", "Pass it on")])
