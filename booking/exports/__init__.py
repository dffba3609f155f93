"""Exports of bookings, their audit trail and sessions, and the cancellation report.

- `resources`: django-import-export resources: the columns, and each row rendered;
- `widgets`: how a value becomes a cell (UTC times, phone numbers, labels);
- `writers`: rendered rows serialised as CSV / JSON chunks or an XLSX file;
- `service`: the one export path: a user, a selection and a format in, a
  download or a background job out;
- `tasks`: the job itself, on the `exports` task queue;
- `admin`: the change list's Export button and action (django-import-export);
- `report`, `chart`: the cancellation report's aggregation and chart;
- `views`, `urls`: the admin pages (export jobs, the report).

This package's `__init__` imports nothing: `booking.models` imports the job model.
"""
