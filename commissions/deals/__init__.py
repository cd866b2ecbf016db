"""Deals: recording closed deals (API, CSV, form) and reading them back by who may see them."""
