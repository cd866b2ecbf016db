"""Calculation: turning stored deals, quotas and plans into stored payout lines, through the engine."""
