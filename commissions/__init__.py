"""Quotaboard commissions: the engine, the domain and the web app around it."""
