"""The Judges pages' services: judge runs, agreement and criteria views, the disagreement audit, and the bridge to metaeval."""
