"""Cash and holds: commission released on payment (or after a date) and finance's holds (docs/finance.md)."""
