"""Disputes: a question about a statement line, its thread, and finance's answer or adjustment."""
