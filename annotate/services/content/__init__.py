"""The benchmark's content: importing and exporting queries and responses, current content, counts."""
