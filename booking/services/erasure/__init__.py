"""Erasure: remove a client's personal data, keep the audit trail's non-personal facts.

`erase_clients([ClientRef(email=…), …])` (or `erase_client_data(email=…)` /
`phone=…` for one client) finds every booking of each client (live,
soft-deleted, and purged ones that survive only in the history) and, in one
transaction, batch by batch:

- blanks the client's name, email and phone on the live rows and on every
  historical record of those bookings;
- removes the email, the phone number and the client's name from free-text
  reasons wherever they occur (cancellation, deletion and history reasons; the
  email and phone also in other bookings' reasons);
- forgets the client's own IP address and user agent (history records written
  by a request without a logged-in user, i.e. the client's own cancellations);
- keeps every non-personal fact: statuses, who (which staff user) acted, when,
  and the reasons' other words;
- records the erasure itself as one historical record per live booking;
- in the email outbox, empties the client's own emails (those of their
  bookings, purged ones included, and those sent to or replying to them): the
  client's address, the subject and the bodies go, the kind, status, business
  and times stay, and an email not sent yet never will be; other emails lose
  mentions of the client's email and phone (in what a bulk change's email still
  to be rendered will say too: the reason staff gave);
- blanks the client's name in the admin's log entries of their bookings;
- deletes the background export jobs whose files hold any changed booking (the
  files go once the erasure commits; see `booking.exports.retention`).

Each table is one step in `ERASURE_STEPS` (`steps.py`: a function taking the
`Erasure` and returning how many rows it changed), so a new table that holds
client data is one more function appended there. A dry run (`dry_run=True`)
runs the same steps read-only: the same counts, no lock, no write.
"""

from booking.services.erasure.service import (
    MAX_CLIENTS,
    Client,
    ClientRef,
    clients_of,
    erase_client_data,
    erase_clients,
)
from booking.services.erasure.steps import (
    DEFAULT_REASON,
    ERASED_NAME,
    ERASURE_STEPS,
    NOT_SENT,
    REDACTED,
    Erasure,
    ErasureResult,
)

__all__ = [
    "DEFAULT_REASON",
    "ERASED_NAME",
    "ERASURE_STEPS",
    "MAX_CLIENTS",
    "NOT_SENT",
    "REDACTED",
    "Client",
    "ClientRef",
    "Erasure",
    "ErasureResult",
    "clients_of",
    "erase_client_data",
    "erase_clients",
]
