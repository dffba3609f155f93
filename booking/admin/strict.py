"""Change lists that never silently ignore a filter.

Django's change list drops a filter in three quiet ways, each of which makes
"select all", the export and a bulk action act on more than the filter asked for:

- a sidebar filter with a single choice (a related filter for staff of one
  business, say) is hidden, and a hidden filter's parameter is consumed but
  never applied: `?session__business__id__exact=<another business>` listed
  every booking;
- filter values it cannot use make it redirect to `?e=1`, which lists
  everything;
- some values crash it instead: NUL bytes (PostgreSQL refuses them) and a date
  hierarchy past year 9998 (the next year does not exist).

Here a filter that was given is always applied (so a value the user may not see
gives an empty list), values that cannot be used answer 400, a search term with
a NUL byte (change list or autocomplete) finds nothing, and an action's
`select_across` is 0 or 1 (Django took any other value for "all").
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import ActionLocation, FieldListFilter, ListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse


def _used(spec: ListFilter) -> bool:
    return bool(getattr(spec, "used_parameters", None))


def _shown_when_used(spec: ListFilter) -> ListFilter:
    """Give an instance's `has_output` the last word: a filter in use is always shown."""
    hidden = spec.has_output
    spec.has_output = lambda: hidden() or _used(spec)  # type: ignore[method-assign]
    return spec


class _FieldFilterWhenUsed:
    """A stand-in for a field's filter class that keeps the filter when it is in use."""

    def __init__(self, filter_class: Any = None) -> None:
        self.filter_class = filter_class or FieldListFilter.create

    def __call__(self, *args: Any, **kwargs: Any) -> ListFilter:
        return _shown_when_used(self.filter_class(*args, **kwargs))


def applied_when_used(item: Any) -> Any:
    """A `list_filter` entry whose filter is applied whenever its parameter is given."""
    if isinstance(item, (list, tuple)):
        field, filter_class = item
        return (field, _FieldFilterWhenUsed(filter_class))
    if isinstance(item, str):
        return (item, _FieldFilterWhenUsed())
    # A SimpleListFilter class: a subclass (Django checks `issubclass` on it).
    return type(item.__name__, (item,), {"has_output": lambda self: item.has_output(self)
                                          or _used(self)})  # fmt: skip


def has_nul(params: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in params.lists())


class StrictChangeList(ChangeList):
    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if has_nul(request.GET):
            raise IncorrectLookupParameters("a filter value contains a NUL byte")
        super().__init__(request, *args, **kwargs)

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        # The date hierarchy's bounds: a year past 9998 has no next year.
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class StrictChangeListMixin:
    """For a ModelAdmin: its change list, export and actions apply every filter given."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return StrictChangeList

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [applied_when_used(item) for item in super().get_list_filter(request)]  # type: ignore[misc]

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        # Django answers unusable filters with a redirect to "?e=1", which lists
        # everything: refuse them instead.
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except IncorrectLookupParameters as error:
            raise BadRequest(f"These filters cannot be applied: {error}") from error

    def response_action(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        action_location: ActionLocation = ActionLocation.CHANGE_LIST,
    ) -> HttpResponse | None:
        # Django reads `select_across` with a BooleanField, so any value but "" or
        # "0" (say "9999") meant "every row the filters match": only 0 and 1 do.
        if request.POST.get("select_across", "0") not in ("0", "1"):
            raise BadRequest("select_across must be 0 or 1")
        return super().response_action(  # type: ignore[misc]
            request, queryset, action_location=action_location
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if "\x00" in search_term:  # nothing stored contains one
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
