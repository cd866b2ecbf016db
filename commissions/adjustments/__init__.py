"""Manual and prior-period adjustments by finance."""
