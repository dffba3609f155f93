"""Every module imports on its own, and the layers import only downwards.

A module that works only because something else happened to import another one
first (a cycle held together by load order) breaks the day an entry point
changes. Each module is imported in a fresh process that has only run
`django.setup()` (with the admin's autodiscovery off, so the admin does not load
half the project first): one interpreter sets up, then forks once per module
(as many at a time as there are CPUs).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("booking", "project")

CHILD = r"""
import os, sys, traceback
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
from django.conf import settings
settings.INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app
    for app in settings.INSTALLED_APPS
]
import django
django.setup()
import importlib
failed, running, names = 0, 0, sys.argv[1:]
while names or running:
    if names and running < (os.cpu_count() or 1):
        name = names.pop()
        if os.fork() == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                print(f"--- {name}", file=sys.stderr)
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running += 1
        continue
    _, status = os.wait()
    running -= 1
    failed += status != 0
sys.exit(1 if failed else 0)
"""


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def modules() -> list[str]:
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return [module_name(path) for path in paths]


def test_every_module_imports_on_its_own_in_a_fresh_process():
    names = modules()
    assert "booking.services.lifecycle" in names or "booking.services" in names
    run = subprocess.run(
        [sys.executable, "-c", CHILD, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr


def booking_imports(path: Path) -> set[str]:
    """The `booking.*` modules a file imports anywhere (function-local imports too),
    except those only a type checker reads (`if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("booking.")}


DATA_LAYER = ("booking.models", "booking.tenancy", "booking.notices")
DATA_LAYER += ("booking.emails.models", "booking.exports.models", "booking.records")
DATA_LAYER += ("booking.businesses.models", "booking.sessions.models", "booking.fees.models")
ABOVE_DATA = ("booking.services", "booking.admin", "booking.api", "booking.public")
ABOVE_DATA += ("booking.management", "booking.emails", "booking.exports")


def test_models_import_only_models():
    """The data layer does not reach up into the services or the interfaces."""
    for name in DATA_LAYER:
        path = ROOT / (name.replace(".", "/") + ".py")
        above = {
            imported
            for imported in booking_imports(path)
            if imported.startswith(tuple(f"{upper}." for upper in ABOVE_DATA))
            and not imported.startswith(tuple(f"{model}." for model in DATA_LAYER))
        }
        assert not above, f"{name} imports {sorted(above)}"


INTERFACES = ("admin", "views", "urls", "forms", "api", "public")


def test_emails_and_exports_do_not_import_their_interfaces():
    """The outbox and the exports are used by the admin and the pages, never the reverse."""
    for package in ("emails", "exports"):
        for path in sorted((ROOT / "booking" / package).rglob("*.py")):
            if path.stem in INTERFACES:
                continue
            interfaces = {
                imported
                for imported in booking_imports(path)
                if set(imported.split(".")[1:3]) & set(INTERFACES)
            }
            assert not interfaces, f"{module_name(path)} imports {sorted(interfaces)}"
