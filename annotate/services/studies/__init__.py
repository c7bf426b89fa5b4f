"""The Studies pages' services: study design, the dashboard, votes export."""
