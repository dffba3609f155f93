"""The models and their migrations agree (STYLE: `makemigrations --check` in the test run)."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())

    assert "No changes detected" in out.getvalue()
