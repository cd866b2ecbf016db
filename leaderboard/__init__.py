"""Quotaboard leaderboard: ranks, badges and live pages built on `commissions`."""
