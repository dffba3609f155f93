"""`make run` tells the truth: the printed and emailed links follow HOST/PORT unless
SITE_URL is given (read from `make -n`, which prints the commands without running them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(*args: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")}
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def commands(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if f"manage.py {name}" in line]


def test_port_sets_where_it_serves_and_what_it_links_to():
    output = planned("PORT=8101")
    for name in ("demo", "db_worker", "runserver"):
        [line] = commands(output, name)
        assert "SITE_URL='http://127.0.0.1:8101'" in line, line
    assert "runserver 127.0.0.1:8101" in output
    assert "Serving on http://127.0.0.1:8101/admin/" in output


def test_listening_everywhere_links_to_this_machine():
    output = planned("HOST=0.0.0.0", "PORT=8102")
    assert "runserver 0.0.0.0:8102" in output
    assert "SITE_URL='http://127.0.0.1:8102'" in commands(output, "demo")[0]


def test_a_given_site_url_wins():
    output = planned("PORT=8101", SITE_URL="https://tunnel.example")
    assert all(
        "SITE_URL='https://tunnel.example'" in line for line in commands(output, "runserver")
    )
    assert "runserver 127.0.0.1:8101" in output


def test_the_workers_task_log_lines_print_once():
    """`make run` runs with DEBUG=1, where Django's own console handler on "django" and
    the root's both printed each line of the task worker's logger ("django.tasks")."""
    script = (
        "import logging; logging.getLogger('django.tasks').info('task line');"
        "logging.getLogger('django_tasks_db').info('worker line')"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    printed = (result.stdout + result.stderr).splitlines()
    assert printed.count("task line") == 1
    assert printed.count("worker line") == 1
