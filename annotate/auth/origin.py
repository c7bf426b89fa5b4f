"""The app's public origin, and the check that refuses pages of other sites.

A browser sends ``Origin: scheme://host[:port]`` with every websocket upgrade and every
request other than GET and HEAD. The app server accepts such a request only from its own
origins:

* ``ANNOTATE_PUBLIC_URL``: the address people open, e.g. ``https://annotate.example.org``
  behind a reverse proxy (several, comma-separated, when the app has more than one name).
  Only scheme, host and port count (a path such as ``/annotate`` is allowed and ignored);
* unset: the address the server itself listens on, as the request reached it (its socket's
  port, under the names ``localhost``, ``127.0.0.1``, ``[::1]`` and the socket's own
  address), over ``http`` (``https`` when the server itself terminates TLS).

:class:`OriginCheck` (ASGI middleware, in front of everything the server runs) refuses:

* a websocket upgrade (``/_stcore/stream``, the app's only channel) without an ``Origin``
  or with another one (browsers always send it, so a missing one is not a browser page of
  ours);
* a POST, PUT, PATCH or DELETE whose ``Origin`` is another one (``null`` included). One
  without ``Origin`` passes: it comes from a program (curl, httpx with an API token), not
  from a page.

Origins compare exactly on scheme, host and port: ``http://localhost:8502`` is not
``http://localhost:8501``, and ``http://localhost:8501`` is ``http://localhost:8501/``.
A refusal is answered at once, before any Streamlit code runs (Streamlit's own check looks
up the machine's external address over the network for an origin it does not know). Once
this check passed, the websocket request goes on with its ``Host`` set to the origin's, so
Streamlit's check accepts it at once, without a look-up, even behind a proxy that rewrites
``Host``.

Example:
    >>> allowed = public_origins({"ANNOTATE_PUBLIC_URL": "https://annotate.example.org/annotate"})
    >>> sorted(allowed)
    ['https://annotate.example.org:443']
    >>> origin_allowed("https://annotate.example.org", allowed)
    True
    >>> origin_allowed("http://annotate.example.org", allowed), origin_allowed("null", allowed)
    (False, False)
    >>> sorted(default_origins("http", "127.0.0.1", 8501))[:2]
    ['http://127.0.0.1:8501', 'http://[::1]:8501']
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

PUBLIC_URL_ENV = "ANNOTATE_PUBLIC_URL"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing (every other method is checked)."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WILDCARDS = {"0.0.0.0", "::", ""}  # noqa: S104 - names of "every address", never an origin
LOG_EVERY_S = 60.0
"""At most one log line per this many seconds about refused requests (with their count)."""


def _host(host: str) -> str:
    """``host`` lower-cased, an IPv6 address in brackets (as a URL writes it)."""
    host = host.strip().lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{address}]" if address.version == 6 else str(address)


def normalize_origin(value: str) -> str | None:
    """``scheme://host:port`` of a URL or an ``Origin`` header (port always written), or
    None when it is not an http(s) address with a host.

    Example:
        >>> normalize_origin("HTTP://LocalHost:8501/"), normalize_origin("https://[::1]")
        ('http://localhost:8501', 'https://[::1]:443')
        >>> normalize_origin("null"), normalize_origin("file:///etc/passwd")
        (None, None)
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None \
            or parts.password is not None:
        return None
    return f"{scheme}://{_host(parts.hostname)}:{port or _DEFAULT_PORTS[scheme]}"


def public_origins(environ: Mapping[str, str] | None = None) -> frozenset[str] | None:
    """The origins named by ``$ANNOTATE_PUBLIC_URL`` (None when it is unset or empty).

    Raises:
        ValueError: an entry is not an ``http://`` or ``https://`` address with a host.
    """
    raw = (os.environ if environ is None else environ).get(PUBLIC_URL_ENV, "").strip()
    if not raw:
        return None
    origins = set()
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        origin = normalize_origin(entry)
        if origin is None:
            raise ValueError(f"{PUBLIC_URL_ENV}: {entry!r} is not an http:// or https:// address with a host "
                             "(e.g. https://annotate.example.org)")
        origins.add(origin)
    return frozenset(origins) or None


def default_origins(scheme: str, host: str | None, port: int) -> frozenset[str]:
    """The origins of a server listening on ``host:port`` with no public URL configured:
    the loopback names, and ``host`` itself unless it is a wildcard address."""
    scheme = "https" if scheme in ("https", "wss") else "http"
    names = list(LOOPBACK_NAMES)
    if host and host not in _WILDCARDS:
        names.append(_host(host))
    return frozenset(f"{scheme}://{_host(name)}:{port}" for name in names)


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """Whether the ``Origin`` header ``origin`` is one of ``allowed`` (normalised origins)."""
    normalized = normalize_origin(origin) if origin else None
    return normalized is not None and normalized in set(allowed)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes) in ``scope``, or None."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def scope_origins(scope: Scope, configured: frozenset[str] | None) -> frozenset[str]:
    """The origins allowed for a request: ``configured``, else those of the socket it reached."""
    if configured is not None:
        return configured
    server = scope.get("server")
    if not server or server[1] is None:  # a Unix socket: only a configured public URL says
        return frozenset()
    return default_origins(str(scope.get("scheme", "http")), str(server[0]), int(server[1]))


def request_from_own_page(scope: Scope, configured: frozenset[str] | None = None) -> bool:
    """Whether a state-changing HTTP request may proceed: no ``Origin`` (not a browser page),
    or one of the app's own origins (``$ANNOTATE_PUBLIC_URL`` when ``configured`` is None)."""
    origin = header(scope, b"origin")
    if origin is None:
        return True
    return origin_allowed(origin, scope_origins(scope, public_origins() if configured is None else configured))


class OriginCheck:
    """ASGI middleware: refuse websocket upgrades and state-changing requests from other
    origins (see the module docstring). The public URL is read once, when it is made.

    Raises:
        ValueError: ``$ANNOTATE_PUBLIC_URL`` is malformed (the server does not start).
    """

    def __init__(self, app: ASGIApp, *, environ: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.configured = public_origins(environ)
        self.refused = 0
        self._logged_at = -LOG_EVERY_S

    def _note_refusal(self, kind: str, origin: str | None) -> None:
        """Count a refusal; one log line per :data:`LOG_EVERY_S` at most (never a lookup)."""
        self.refused += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            log.warning("refused a %s from another origin (%r; %d refused so far); set %s if this is "
                        "the app's public address", kind, (origin or "none")[:100], self.refused, PUBLIC_URL_ENV)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            origin = header(scope, b"origin")
            if origin is None or not origin_allowed(origin, scope_origins(scope, self.configured)):
                self._note_refusal("websocket", origin)
                await send({"type": "websocket.close", "code": 1008})  # before accepting: HTTP 403
                return
            scope = _same_host(scope, origin)
        elif kind == "http" and scope["method"] not in SAFE_METHODS:
            origin = header(scope, b"origin")
            if origin is not None and not origin_allowed(origin, scope_origins(scope, self.configured)):
                self._note_refusal(f"{scope['method']} request", origin)
                response = PlainTextResponse("Refused: this request was sent by a page of another site.",
                                             status_code=403)
                await response(scope, receive, send)  # the body is never read
                return
        await self.app(scope, receive, send)


def _same_host(scope: Scope, origin: str) -> Scope:
    """``scope`` with its ``Host`` header set to the (checked) origin's host and port.

    Streamlit checks the websocket's ``Origin`` again and accepts it at once when it names the
    ``Host``; a proxy that rewrites ``Host`` would otherwise send it down the path that looks
    up the machine's external address over the network. ``Origin`` itself is kept (Streamlit's
    ``st.login`` reads it).
    """
    netloc = urlsplit(origin.strip()).netloc
    if header(scope, b"host") == netloc:
        return scope
    headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
    return dict(scope, headers=[*headers, (b"host", netloc.encode("latin-1"))])
