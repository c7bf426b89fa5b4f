"""The Annotate pages' services: an annotator's queue, judgments and ratings stored exactly once."""
