"""gunicorn's settings for production (read from the working directory by `gunicorn`).

`preload_app`: the application is imported once, in the master, before the
workers fork. A new worker is then ready at once, so a restarted or replaced
worker never makes requests wait for Django to import (5.5 s on this machine).
A reload (HUP) then replaces the workers without a stall; new code needs a new
master (see the README's deploy steps).
Everything else comes from the command line or `GUNICORN_CMD_ARGS`.
"""

preload_app = True
# Old workers finish their requests for up to this long when retired.
graceful_timeout = 30
