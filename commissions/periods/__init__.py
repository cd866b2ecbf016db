"""Commission periods: keys like 2026-01 / 2026-Q1 / 2026, their dates and their workflow."""
