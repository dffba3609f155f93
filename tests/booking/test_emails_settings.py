"""Outgoing email configured from the environment: project/mailers.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import mailers

from project.mailers import anymail_settings, mailer


@pytest.mark.parametrize(
    ("provider", "backend"),
    [
        ("", "django.core.mail.backends.console.EmailBackend"),
        ("console", "django.core.mail.backends.console.EmailBackend"),
        ("postmark", "anymail.backends.postmark.EmailBackend"),
        (" Mailgun ", "anymail.backends.mailgun.EmailBackend"),
        ("amazon_ses", "anymail.backends.amazon_ses.EmailBackend"),
        ("brevo", "anymail.backends.brevo.EmailBackend"),
    ],
)
def test_mailer_for_provider(provider, backend):
    assert mailer(provider) == {"BACKEND": backend}


def test_in_development_the_console_prints_readable_emails():
    assert mailer("console", debug=True) == {"BACKEND": "project.mailers.ReadableConsoleBackend"}
    assert mailer("postmark", debug=True) == {"BACKEND": "anymail.backends.postmark.EmailBackend"}


@pytest.mark.parametrize("provider", ["postmrak", "../os", "base", "test", "smtp.example.com"])
def test_unknown_provider_is_refused(provider):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PROVIDER"):
        mailer(provider)


def test_anymail_settings_come_from_anymail_prefixed_variables():
    options = anymail_settings(
        {
            "ANYMAIL_POSTMARK_SERVER_TOKEN": "00000000-aaaa-bbbb-cccc-000000000000",
            "ANYMAIL_WEBHOOK_SECRET": "postmark:s3cret",
            "ANYMAIL_IGNORE_RECIPIENT_STATUS": "true",
            "ANYMAIL_REQUESTS_TIMEOUT": "10",
            "ANYMAIL_SEND_DEFAULTS": '{"track_opens": false}',
            "POSTMARK_SERVER_TOKEN": "not ours",
            "ANYMAIL_": "nameless",
        }
    )
    assert options == {
        "POSTMARK_SERVER_TOKEN": "00000000-aaaa-bbbb-cccc-000000000000",
        "WEBHOOK_SECRET": "postmark:s3cret",
        "IGNORE_RECIPIENT_STATUS": True,
        "REQUESTS_TIMEOUT": 10,
        "SEND_DEFAULTS": {"track_opens": False},
    }


def test_without_a_webhook_secret_an_unguessable_one_is_set():
    first, second = anymail_settings({})["WEBHOOK_SECRET"], anymail_settings({})["WEBHOOK_SECRET"]
    assert first != second
    assert len(first) > 30


def test_malformed_json_option_is_refused():
    with pytest.raises(ImproperlyConfigured, match="ANYMAIL_SEND_DEFAULTS"):
        anymail_settings({"ANYMAIL_SEND_DEFAULTS": "{track_opens"})


def test_postmark_from_the_environment_end_to_end():
    """The project's settings module, read in a fresh interpreter with Postmark's variables."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("ANYMAIL_")},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "x" * 50,
        "EMAIL_PROVIDER": "postmark",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "pm-token",
        "ANYMAIL_WEBHOOK_SECRET": "hook:secret",
        "DEFAULT_FROM_EMAIL": "Studio <bookings@studio.example>",
    }
    code = (
        "import json, django; django.setup();"
        "from django.conf import settings as s; from django.core.mail import mailers;"
        "m = mailers.default;"
        "print(json.dumps([s.MAILERS, s.ANYMAIL, s.DEFAULT_FROM_EMAIL, type(m).__module__,"
        " m.server_token]))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=django_settings.BASE_DIR,
    ).stdout  # fmt: skip
    configured, anymail, from_email, module, token = json.loads(output)
    assert configured == {"default": {"BACKEND": "anymail.backends.postmark.EmailBackend"}}
    assert anymail == {"POSTMARK_SERVER_TOKEN": "pm-token", "WEBHOOK_SECRET": "hook:secret"}
    assert from_email == "Studio <bookings@studio.example>"
    assert (module, token) == ("anymail.backends.postmark", "pm-token")


def test_the_postmark_backend_takes_its_token_from_anymail(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.postmark.EmailBackend"}}
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "pm-token"}
    backend = mailers.default
    assert isinstance(backend, PostmarkBackend)
    assert backend.server_token == "pm-token"


def test_the_console_prints_emails_decoded_so_a_signed_link_can_be_copied():
    from io import StringIO

    from django.core.mail import EmailMultiAlternatives

    from project.mailers import ReadableConsoleBackend

    link = "http://127.0.0.1:8101/booking/cancel/K7QM4XTR/?token=" + "Ab-9_=" * 20
    message = EmailMultiAlternatives(
        "Your cancellation link — Johnny Bravo",
        f"Hello Ada,\n\nCancel here: {link}\n",
        "Johnny Bravo <bookings@localhost>",
        ["ada@example.com"],
        reply_to=["frontdesk@johnnybravo.example"],
    )
    message.attach_alternative(f'<p><a href="{link}">Cancel</a></p>', "text/html")
    stream = StringIO()

    ReadableConsoleBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert f"Cancel here: {link}\n" in printed  # whole, on one line, "=" unescaped
    assert "=3D" not in printed and "Subject: Your cancellation link — Johnny Bravo" in printed
    assert "To: ada@example.com" in printed and "Reply-To: frontdesk@johnnybravo.example" in printed
    assert "(also sent as text/html" in printed
