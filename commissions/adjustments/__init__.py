"""Adjustments: manual corrections by finance and prior-period adjustments of locked periods."""
