"""Outbound webhooks: subscriptions, the delivery of outbox events (signed, retried, logged) and replay."""
