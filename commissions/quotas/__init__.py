"""Quotas: the managers' grid, CSV upload with preview, copy from last period, proration, the quotas API."""
