"""Outgoing email configured from the environment: `MAILERS` and `ANYMAIL`.

`EMAIL_PROVIDER` picks the backend: `console` (the default: emails are printed
by the process that sends them, i.e. the task worker; decoded with DEBUG on) or any Anymail provider
(`postmark`, `mailgun`, `sendgrid`, `amazon_ses`, `brevo`, `mailjet`,
`sparkpost`, `resend`, …; see `anymail.backends`). The provider's options are
Anymail settings, each given as an environment variable named like Anymail's
own top-level setting, `ANYMAIL_<NAME>` (e.g. `ANYMAIL_POSTMARK_SERVER_TOKEN`,
`ANYMAIL_MAILGUN_API_KEY`, `ANYMAIL_WEBHOOK_SECRET`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from importlib.util import find_spec
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

BUILTIN = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
PREFIX = "ANYMAIL_"
# Modules of anymail.backends that are not providers.
NOT_PROVIDERS = {"base", "base_requests", "console", "test"}


def mailer(provider: str, *, debug: bool = False) -> dict[str, Any]:
    """The `MAILERS["default"]` entry for a provider name.

    In development (`debug`), the console prints emails decoded
    (`ReadableConsoleBackend`); otherwise it is Django's own, which
    `check --deploy` knows as development-only.
    """
    provider = provider.strip().lower() or "console"
    if provider == "console" and debug:
        return {"BACKEND": "project.mailers.ReadableConsoleBackend"}
    if provider in BUILTIN:
        return {"BACKEND": BUILTIN[provider]}
    if (
        provider.isidentifier()
        and provider not in NOT_PROVIDERS
        and find_spec(f"anymail.backends.{provider}") is not None
    ):
        return {"BACKEND": f"anymail.backends.{provider}.EmailBackend"}
    raise ImproperlyConfigured(
        f"EMAIL_PROVIDER={provider!r} is neither 'console' nor an Anymail provider "
        "(postmark, mailgun, sendgrid, amazon_ses, brevo, mailjet, sparkpost, resend, …)."
    )


def _value(name: str, raw: str) -> Any:
    """Strings stay strings, except JSON objects, lists and booleans, and numeric timeouts."""
    text = raw.strip()
    if text[:1] in "{[" or text in ("true", "false") or (name.endswith("TIMEOUT") and text):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ImproperlyConfigured(f"{PREFIX}{name} is not valid JSON: {raw!r}") from None
    return raw


def anymail_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """`ANYMAIL` from every `ANYMAIL_<NAME>` variable.

    Without `ANYMAIL_WEBHOOK_SECRET`, the tracking webhooks get a random secret
    nobody knows, so they refuse every call instead of accepting forged events.
    """
    options = {
        name[len(PREFIX) :]: _value(name[len(PREFIX) :], value)
        for name, value in environ.items()
        if name.startswith(PREFIX) and len(name) > len(PREFIX)
    }
    if not options.get("WEBHOOK_SECRET"):
        options["WEBHOOK_SECRET"] = f"unset:{secrets.token_urlsafe(24)}"
    return options


class ReadableConsoleBackend(ConsoleBackend):
    """Django's console backend, printing each email as a person reads it.

    Django's own prints the MIME source, whose quoted-printable bodies write "="
    as "=3D" and break long lines with a trailing "=", so a signed cancel link
    printed there cannot be copied. This prints the addresses, the subject and
    the plain-text body as written, and says which other parts were sent.
    """

    def write_message(self, message: Any) -> None:
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            *([f"Reply-To: {', '.join(message.reply_to)}"] if message.reply_to else []),
            f"Subject: {message.subject}",
            *(f"{name}: {value}" for name, value in message.extra_headers.items()),
        ]
        for alternative in getattr(message, "alternatives", []):
            lines.append(f"(also sent as {alternative.mimetype}: {len(alternative.content)} chars)")
        self.stream.write("\n".join(lines) + "\n\n" + message.body.rstrip() + "\n")
        self.stream.write("-" * 79 + "\n")
