"""HTTP JSON API for annotation clients, mounted into the app server (see :mod:`annotate.asgi`)."""
