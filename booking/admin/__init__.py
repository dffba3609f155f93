"""The staff backoffice: one module per admin area."""
