"""Leaderboard tables (badges, contests) are added here by the leaderboard issue.

Kept as a module now so the migration environment already imports it: a table
added here is picked up by ``alembic revision --autogenerate`` with no other change.
"""
