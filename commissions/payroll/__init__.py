"""Payroll: the per-period payout export (CSV, XLSX) and finance's dashboard."""
