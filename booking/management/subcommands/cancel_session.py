"""bookings cancel-session --id N --reason R [--no-notify] [--dry-run]"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking.audit import RequestContext
from booking.models import Session
from booking.services.session_jobs import active_bookings, background_threshold
from booking.services.sessions import cancel_sessions, required_reason

from .common import positive_int

help = (
    "Cancel a session as the business: the session becomes cancelled and every active booking "
    "in it is cancelled as a staff cancellation (no fee), each client emailed unless --no-notify."
)


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--id", type=positive_int, required=True, help="The session's id.")
    parser.add_argument("--reason", required=True, help="Told to the clients; in the history.")
    parser.add_argument(
        "--no-notify", action="store_true", help="Email nobody about the cancellation."
    )
    parser.add_argument("--dry-run", action="store_true", help="Show what would happen.")


def handle(
    command: BaseCommand, *, id: int, reason: str, no_notify: bool, dry_run: bool, **_: Any
) -> None:
    session = Session.objects.select_related("business").filter(pk=id).first()
    if session is None:
        raise CommandError(f"No session with id {id}.")
    if dry_run:
        required_reason(reason)
        if session.is_cancelled:
            command.stdout.write(command.style.NOTICE(f"{session} is already cancelled."))
            return
        active = active_bookings([session.pk]).count()
        emails = "nobody emailed" if no_notify else "each client emailed"
        later = " by a background job" if active > background_threshold() else ""
        command.stdout.write(
            command.style.NOTICE(
                f"Would cancel {session} and its {active} active booking(s){later} ({emails}). "
                "Nothing was changed."
            )
        )
        return
    result = cancel_sessions(
        session,
        actor=None,
        reason=reason,
        context=RequestContext.command("bookings cancel-session"),
        notify_client=not no_notify,
    )
    style = command.style.SUCCESS if result.done else command.style.WARNING
    command.stdout.write(style(result.summary()))
    for job in result.jobs:  # a worker (`manage.py db_worker --queue-name '*'`) runs it
        command.stdout.write(f"Background job #{job.pk} queued for the worker: {job.progress}.")
