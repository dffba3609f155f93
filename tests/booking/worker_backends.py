"""Mail backends for the worker's tests: Anymail's test backend, observed.

`RecordingBackend` notes the database session's `synchronous_commit` at each send.
`DiesInFlight` is run by a worker in a child process: once the provider has
accepted the `KILL_AFTER`-th message it kills that process (SIGKILL, as `kill -9`
or an OOM kill would) before the worker records the send, after writing each
accepted recipient to the file `SENDS_LOG`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from typing import Any, ClassVar

from anymail.backends.test import EmailBackend
from django.db import connection


class RecordingBackend(EmailBackend):
    seen: ClassVar[list[str]] = []

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            type(self).seen.append(cursor.fetchone()[0])
        return super().send_messages(email_messages)


class DiesInFlight(EmailBackend):
    accepted: ClassVar[int] = 0

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        count = super().send_messages(email_messages)
        with open(os.environ["SENDS_LOG"], "a") as log:
            log.writelines(f"{message.to[0]}\n" for message in email_messages)
        type(self).accepted += count
        if type(self).accepted >= int(os.environ["KILL_AFTER"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return count
