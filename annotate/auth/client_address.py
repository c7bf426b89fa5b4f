"""Which address a request comes from, for the login limits.

By default the address is the socket's peer. Behind a reverse proxy every request comes
from the proxy, so the proxy's header can be trusted instead, but only when configured:

* ``ANNOTATE_TRUSTED_PROXY_HEADER``: the header the proxy sets (e.g. ``X-Forwarded-For``
  or ``X-Real-IP``); unset means the header is ignored, whatever a client sends.
* ``ANNOTATE_TRUSTED_PROXIES``: comma-separated addresses of the proxies whose header is
  believed (none by default: both settings are needed); a request from any other peer is
  judged by its socket address.

Nothing else rewrites the address: ``annotate serve`` turns uvicorn's own proxy-header
handling off (:func:`annotate.commands.serve.server_environment`), so the socket peer seen
here is the real one.

Of ``X-Forwarded-For: client, proxy1, ...`` the right-most entry is used: the one our
proxy appended (entries to its left were sent by the client and can be anything).

Example:
    >>> env = {"ANNOTATE_TRUSTED_PROXY_HEADER": "X-Forwarded-For", "ANNOTATE_TRUSTED_PROXIES": "127.0.0.1"}
    >>> resolve("127.0.0.1", {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}, env)
    '203.0.113.9'
    >>> resolve("198.51.100.7", {"x-forwarded-for": "203.0.113.9"}, env)   # not our proxy
    '198.51.100.7'
    >>> resolve("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, {})       # no header configured
    '127.0.0.1'
    >>> resolve("127.0.0.1", {"x-forwarded-for": "203.0.113.9"},          # no proxy configured
    ...         {"ANNOTATE_TRUSTED_PROXY_HEADER": "X-Forwarded-For"})
    '127.0.0.1'
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

HEADER_ENV = "ANNOTATE_TRUSTED_PROXY_HEADER"
PROXIES_ENV = "ANNOTATE_TRUSTED_PROXIES"
DEFAULT_PROXIES = ""
MAX_ADDRESS_CHARS = 64


def _clean(value: str) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def _trusted_peer(peer: str | None, env: Mapping[str, str]) -> bool:
    trusted = {_clean(p) for p in env.get(PROXIES_ENV, DEFAULT_PROXIES).split(",") if p.strip()} - {None}
    return bool(env.get(HEADER_ENV, "").strip()) and _clean(peer or "") in trusted


def forwarded_https(peer: str | None, headers: Mapping[str, str],
                    environ: Mapping[str, str] | None = None) -> bool:
    """Whether a trusted proxy says the browser reached it over HTTPS (``X-Forwarded-Proto``).

    Example:
        >>> env = {"ANNOTATE_TRUSTED_PROXY_HEADER": "X-Real-IP", "ANNOTATE_TRUSTED_PROXIES": "127.0.0.1"}
        >>> forwarded_https("127.0.0.1", {"x-forwarded-proto": "https"}, env)
        True
        >>> forwarded_https("198.51.100.7", {"x-forwarded-proto": "https"}, env)
        False
    """
    env = os.environ if environ is None else environ
    return _trusted_peer(peer, env) and headers.get("x-forwarded-proto", "").strip().lower() == "https"


def resolve(peer: str | None, headers: Mapping[str, str], environ: Mapping[str, str] | None = None) -> str:
    """The client address of a request from socket peer ``peer`` with ``headers``
    (lower-case names), under the configuration in ``environ`` (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    peer_address = _clean(peer or "") or (peer or "")[:MAX_ADDRESS_CHARS]
    header = env.get(HEADER_ENV, "").strip().lower()
    if not _trusted_peer(peer, env):
        return peer_address
    raw = headers.get(header, "")
    forwarded = _clean(raw.split(",")[-1]) if raw else None
    return forwarded or peer_address
