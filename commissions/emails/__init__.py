"""Email: the sender of the email outbox (SMTP, retries) and the managers' weekly digest (docs/email.md)."""
