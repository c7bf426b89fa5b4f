"""Accounts and logins (the Admin pages' services)."""
