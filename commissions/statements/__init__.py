"""Statements: what a person earned in a period, line by line, and what-if questions about it."""
