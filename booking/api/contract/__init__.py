"""The API contract, declared once: every endpoint, its input, its answers and their shapes.

Each endpoint of the JSON APIs is one `Endpoint` (its route, methods, security,
summary, query parameters, body and the shape of each answer), built from the
types of `types.py`, each of which parses input, renders output and documents
itself. Everything else reads these declarations:

- the URL patterns (`Endpoint.path(view)`: a view must be bound to its endpoint);
- the method check (`Endpoint.bind`: one JSON 405, code `method_not_allowed`,
  with `Allow`, for every endpoint);
- the views' input (`Operation.read(request)`: unknown, repeated, mistyped and
  out-of-range values are a 400 naming the field) and output
  (`Operation.answer(value)`: a response carries exactly the declared fields);
- the OpenAPI document (`booking.api.openapi`), which only walks `ENDPOINTS`.

So adding a field to a response, or a parameter to a request, is one edit here;
adding an endpoint is one `Endpoint` here (in `ENDPOINTS`), its view (bound with
`@staff_endpoint(E)` or `@public_endpoint(E)`) and one `E.path(view)` line in
`booking/api/urls.py`. `tests/booking/test_api_contract.py` checks that real
responses match the document and carry every declared field.

Why not django-ninja (or DRF with drf-spectacular)? Both would give schemas
and a generated document, but the contract pins behaviour they do not have and
that would have to be re-added around them: errors are `{"success": false,
"error", "code"}` with 400 (ninja answers 422 with its own body), unknown and
repeated query parameters are refused, the purge takes its fields from the body
or the query string but never both, session authentication with Django's CSRF
check and a JSON 401, and a reason whose length the service checks with its own
code. Adding pydantic and a framework for six operations would cost more than
these ~400 lines of declarations, which also let the action table
(`booking.services.actions`) feed the enums and options directly.
"""

from booking.api.contract import client, staff, waitlist

ENDPOINTS = (*staff.ENDPOINTS, *waitlist.ENDPOINTS, *client.ENDPOINTS)

__all__ = ["ENDPOINTS"]
