"""The Refine pages' services: materials; expert edits (versions core, instructions, pruning, review,
history, edit statistics); staleness; splitting."""
