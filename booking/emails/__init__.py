"""Booking emails: an outbox written with the state change, sent by a task worker.

- `models`: `OutboxEmail`, one row per email (its own copy of recipient,
  subject and bodies, so it outlives a purged booking).
- `messages`: builds the rows for each kind of email from templates, with a
  built-in plain body when a template fails to render.
- `outbox`: writes rows in batches and enqueues one task per batch on commit;
  resend and the sweep of rows a crash left behind.
- `tasks`: the `django.tasks` tasks and the functions that enqueue them.
- `delivery`: the sending loop (claim, send, retry transient errors with
  backoff, fail permanent ones); the task hands it the function that schedules
  a retry, so it imports no task.

Imports go one way: outbox → tasks → delivery → models.
- `tracking`: Anymail's tracking webhook signal → delivered / bounced / complained.
"""
