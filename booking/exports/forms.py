"""Forms of the export pages: what to export, and the report's filters."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from booking.actors import User
from booking.exports.resources import RESOURCES
from booking.exports.writers import DEFAULT_FORMAT, FORMAT_LABELS
from booking.models import Business

MAX_REPORT_DAYS = 3 * 366

FORMAT_CHOICES = list(FORMAT_LABELS.items())


def business_choices(user: User) -> list[tuple[str, str]]:
    visible = Business.objects.for_user(user).order_by("name").values_list("slug", "name")
    return [("", "All my businesses"), *visible]


# Sessions of any real business fall in this range; beyond it date arithmetic
# (the week after the end date) would overflow.
EARLIEST_REPORT_DATE = date(1900, 1, 1)
LATEST_REPORT_DATE = date(2999, 12, 31)


class NewExportForm(forms.Form):
    table = forms.ChoiceField(
        label="Export",
        choices=[(name, resource.get_display_name()) for name, resource in RESOURCES.items()],
    )
    format = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES, initial=DEFAULT_FORMAT)
    business = forms.ChoiceField(label="Business", required=False)
    include_deleted = forms.BooleanField(
        required=False, label="Include soft-deleted bookings", initial=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["business"]).choices = business_choices(user)


class ReportFilterForm(forms.Form):
    business = forms.ChoiceField(required=False)
    start = forms.DateField(
        required=False, label="Sessions from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["business"]).choices = business_choices(user)

    @staticmethod
    def default_range() -> dict[str, Any]:
        """The last twelve weeks and the next four, whole ISO weeks."""
        today = timezone.localdate()
        monday = today - timedelta(days=today.weekday())
        return {"start": monday - timedelta(weeks=12), "end": monday + timedelta(weeks=5, days=-1)}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        for date_ in (start, end):
            if date_ and not (EARLIEST_REPORT_DATE <= date_ <= LATEST_REPORT_DATE):
                raise forms.ValidationError(
                    f"Choose dates between {EARLIEST_REPORT_DATE:%Y} and {LATEST_REPORT_DATE:%Y}."
                )
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date must not be after the end date.")
            if (end - start).days > MAX_REPORT_DAYS:
                raise forms.ValidationError("Choose a range of at most three years.")
        return data
