"""Signing in and out, changing and resetting passwords, API tokens: the pages and API of a person's account."""
