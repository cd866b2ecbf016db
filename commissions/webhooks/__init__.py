"""Signed webhook deliveries from a CRM (the Standard Webhooks scheme)."""
