"""Backups, restores and moving an install to another database (docs/backups.md)."""
