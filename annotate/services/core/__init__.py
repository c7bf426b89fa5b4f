"""Shared core of the service layer: errors, role checks, taxonomy, file reading, bulk writes, backups."""
