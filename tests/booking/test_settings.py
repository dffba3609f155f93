"""Settings come from the environment: each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from project.env import env_bool, env_int, env_list

CONTROLLED = {
    "DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "TIME_ZONE", "SITE_URL",
    "EMAIL_PROVIDER", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT", "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests in this process
}  # fmt: skip
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#Lq2!vZp9@wXr4$Tn8&Hb3^Yc6*Md1(Fs5)Gj0-Ke2+Ua9=Ow7",
    "ALLOWED_HOSTS": "bookings.example.com",
    "EMAIL_PROVIDER": "postmark",
    "ANYMAIL_POSTMARK_SERVER_TOKEN": "server-token",
}
READ = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "db": s.DATABASES["default"], "cache": s.CACHES["default"], "debug": s.DEBUG,
    "secret_key": s.SECRET_KEY, "hosts": s.ALLOWED_HOSTS, "time_zone": s.TIME_ZONE,
    "site_url": s.SITE_URL, "mailer": s.MAILERS["default"]["BACKEND"], "anymail": s.ANYMAIL,
    "base_dir": str(s.BASE_DIR),
}, default=str))
"""


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in CONTROLLED and not k.startswith("ANYMAIL_")
    }
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, "DJANGO_SETTINGS_MODULE": "project.settings", **env},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_under(**env: str) -> dict:
    result = run_python(["-c", READ], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_defaults():
    read = settings_under(DEBUG="1")

    assert read["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert read["db"]["NAME"] == f"{read['base_dir']}/db.sqlite3"
    assert read["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert read["secret_key"].startswith("django-insecure-")
    assert read["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert read["mailer"] == "project.mailers.ReadableConsoleBackend"  # emails printed decoded
    assert read["time_zone"] == "UTC"


def test_production_reads_the_environment():
    read = settings_under(
        **PRODUCTION,
        DATABASE_URL="postgres://booker:s3cret@db.internal:6543/bookings",
        REDIS_URL="redis://cache.internal:6379/2",
        TIME_ZONE="Europe/Berlin",
        SITE_URL="https://bookings.example.com/",
    )

    db = read["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "bookings", "booker", "s3cret", "db.internal", 6543,
    )  # fmt: skip
    assert read["cache"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert read["cache"]["LOCATION"] == "redis://cache.internal:6379/2"
    assert read["debug"] is False and read["hosts"] == ["bookings.example.com"]
    assert read["time_zone"] == "Europe/Berlin"
    assert read["site_url"] == "https://bookings.example.com"
    assert read["mailer"] == "anymail.backends.postmark.EmailBackend"
    assert read["anymail"]["POSTMARK_SERVER_TOKEN"] == "server-token"


def test_without_debug_a_secret_key_is_required():
    result = run_python(["-c", READ], DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_an_email_provider_must_be_a_module_name():
    result = run_python(["-c", READ], **{**PRODUCTION, "EMAIL_PROVIDER": "../../evil"})

    assert result.returncode != 0 and "nor an Anymail provider" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = run_python(["manage.py", "check", "--deploy"], **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "ERRORS" not in result.stderr


def test_check_deploy_has_nothing_to_say_with_hsts_preload():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        SECURE_HSTS_PRELOAD="1",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_console_email_backend():
    result = run_python(["manage.py", "check", "--deploy"], **{**PRODUCTION, "EMAIL_PROVIDER": ""})

    assert result.returncode != 0 and "mail.E001" in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("on", True), ("0", False), ("off", False),
     ("", False), (None, "default")],
)  # fmt: skip
def test_env_bool(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("FLAG", raising=False)
    else:
        monkeypatch.setenv("FLAG", raw)

    assert env_bool("FLAG", "default") == expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")

    with pytest.raises(ValueError, match="FLAG must be a boolean"):
        env_bool("FLAG", False)


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("COUNT", " 3 ")
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")

    assert env_int("COUNT", 1) == 3
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("COUNT", "three")
    with pytest.raises(ValueError, match="COUNT must be an integer"):
        env_int("COUNT", 1)
