"""Outgoing email configured from the environment: `MAILERS` and `ANYMAIL`.

`EMAIL_PROVIDER` picks the backend: `console` (the default: emails are printed
by the process that sends them, i.e. the task worker) or any Anymail provider
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

BUILTIN = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
PREFIX = "ANYMAIL_"
# Modules of anymail.backends that are not providers.
NOT_PROVIDERS = {"base", "base_requests", "console", "test"}


def mailer(provider: str) -> dict[str, Any]:
    """The `MAILERS["default"]` entry for a provider name."""
    provider = provider.strip().lower() or "console"
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
