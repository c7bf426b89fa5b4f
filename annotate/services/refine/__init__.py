"""The Refine pages' services: materials, expert edits and their review, staleness, splitting."""
