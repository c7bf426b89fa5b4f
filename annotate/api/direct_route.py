"""Send JSON API requests straight to the API's router, past Streamlit's middleware.

Streamlit wraps every route of its app in its own middleware (path security checks for
static files, a signed session cookie, selective gzip) that the JSON API uses none of; on
the submit path that stack cost about a fifth of the server's CPU. :class:`DirectApiRoute`
is installed as user middleware of the ``st.App`` (which runs before Streamlit's own), so
``/api/v1/...`` goes to a bare Starlette router while everything else (the UI, its
websocket, the login form) passes through unchanged. Starlette's outermost error handler
still answers an unexpected exception with a 500.

A known path asked with a method it does not take (``GET /api/v1/judgments``, ``OPTIONS``,
``DELETE /api/v1/me``) is answered 405 with ``Allow`` and a JSON error, and logs nothing (a
bare router would raise its 405 up to Streamlit's error handler: a 500 and a traceback in the
log for every such request).

Example:
    >>> from starlette.routing import Route
    >>> from starlette.responses import PlainTextResponse
    >>> seen = []
    >>> async def streamlit(scope, receive, send): seen.append("streamlit")
    >>> async def ping(request): return PlainTextResponse("pong")
    >>> mw = DirectApiRoute(streamlit, routes=[Route("/api/v1/ping", ping)])
    >>> mw.handles({"type": "http", "path": "/api/v1/ping"}), mw.handles({"type": "http", "path": "/"})
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/api/v1/"


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"error": f"no API route {Request(scope).url.path}"}, status_code=404)
    await response(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A routing error (405 and the like) as ``{"error": ...}`` with its headers (``Allow``)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette joins a route's methods from a set: sort them, so the answer is the same every run
        allow = ", ".join(sorted(m.strip() for m in headers.get("Allow", "").split(",") if m.strip()))
        if allow:
            headers["Allow"] = allow
        message = f"{request.method} is not allowed on {request.url.path}; use {allow}" \
            if allow else f"{request.method} is not allowed here"
    else:
        message = str(exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers or None)


class DirectApiRoute:
    """ASGI middleware: HTTP requests under :data:`PREFIX` go to ``routes``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.router = ExceptionMiddleware(Router(routes=list(routes), default=_not_found),
                                          handlers={HTTPException: _http_error})

    def handles(self, scope: Scope) -> bool:
        """Is ``scope`` a request for the JSON API?"""
        return scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.handles(scope):
            await self.router(scope, receive, send)
        else:
            await self.app(scope, receive, send)
