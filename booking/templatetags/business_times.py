"""`{{ moment|business_time:business }}`: a time in its business's zone (booking.times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.safestring import SafeString

from booking.times import business_time_html

register = template.Library()


@register.filter(name="business_time")
def business_time_filter(value: datetime | None, where: Any) -> SafeString:
    return business_time_html(value, where)
