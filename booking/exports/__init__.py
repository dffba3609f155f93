"""Exports of bookings, their audit trail and sessions, and the cancellation report.

- `tables`: what each export contains (columns read with `values_list`);
- `writers`: CSV / JSON chunks and XLSX files in bounded memory;
- `resources`: django-import-export resources and formats for the admin;
- `service`: stream an export, or hand it to a background job when too large;
- `tasks`: the job itself, on the `exports` task queue;
- `report`: the cancellation report's aggregation and chart;
- `views`, `urls`: the admin pages (export jobs, the report).

This package's `__init__` imports nothing: `booking.models` imports the job model.
"""
