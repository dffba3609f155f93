"""The exports use django-import-export through its public API only.

An upgrade of import-export that renames a private hook would silently bypass
an override of it; so no class here overrides, and no module calls, a name
that import-export keeps private (a leading underscore).
"""

import ast
import inspect
from pathlib import Path

import import_export.widgets
from import_export import admin as admin_module
from import_export import forms as forms_module
from import_export import resources as resources_module
from import_export import widgets as widgets_module
from import_export.formats import base_formats

import booking.exports
from booking.exports import admin as exports_admin
from booking.exports import resources, widgets

EXPORTS = Path(booking.exports.__file__).parent


def private_names_of_import_export() -> set[str]:
    names = set()
    for module in (admin_module, forms_module, resources_module, base_formats, widgets_module):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.startswith("import_export"):
                names |= {
                    name for name in vars(cls) if name.startswith("_") and not name.endswith("__")
                }
    # `_meta` is the options object Django and import-export document as public.
    return names - {"_meta"}


def test_no_private_import_export_method_is_overridden():
    private = private_names_of_import_export()
    assert {"_do_file_export", "_escape_formulae", "_get_field_label"} <= private
    classes = [
        exports_admin.StreamingExportMixin,
        exports_admin.ExportForm,
        resources.ExportOnlyResource,
        resources.ExportResource,
        resources.BookingResource,
        resources.AuditResource,
        resources.SessionResource,
        resources.CancellationReportResource,
        widgets.TextWidget,
        widgets.PhoneWidget,
        widgets.UtcDateTimeWidget,
    ]
    overridden = {(cls.__name__, name) for cls in classes for name in vars(cls) if name in private}
    assert overridden == set()


def test_no_private_import_export_name_is_called():
    private = private_names_of_import_export()
    used = set()
    for path in EXPORTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in private:
                used.add((path.name, node.attr))
    assert used == set()


def test_import_exports_escaping_is_off():
    from django.conf import settings

    # It strips "=" only and would stringify XLSX and JSON cells: the CSV writer escapes.
    assert settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is False
    assert import_export.widgets.Widget is widgets.TextWidget.__mro__[1]


def test_resources_refuse_imports():
    import pytest

    for resource in (resources.BookingResource, resources.CancellationReportResource):
        with pytest.raises(NotImplementedError):
            resource().import_data(None)
