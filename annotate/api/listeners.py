"""TCP_NODELAY on the app server's listening sockets.

Streamlit binds the server socket itself (``socket.socket(family)``, protocol number 0)
and hands it to uvicorn. asyncio turns Nagle's algorithm off only for sockets whose
protocol number is ``IPPROTO_TCP``, so every connection accepted from that socket keeps
Nagle on. uvicorn writes a response's headers and its body in two ``send`` calls; with
Nagle on, the body waits for the client's (delayed) ACK of the headers: about 40 ms on
every API request, even ``/api/v1/health``, whatever the request costs the server.

On Linux an accepted socket inherits ``TCP_NODELAY`` from its listening socket, so
setting it on the listener once (before the first connection is accepted) is enough.
:func:`set_nodelay_on_listeners` does that for every listening TCP socket of this process
(found through ``/proc/self/fd``; elsewhere it finds none and does nothing).

Example:
    >>> import socket
    >>> listener = socket.socket(socket.AF_INET)
    >>> listener.bind(("127.0.0.1", 0)); listener.listen()
    >>> set_nodelay_on_listeners() >= 1
    True
    >>> listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    True
    >>> listener.close()
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)

FD_DIR = "/proc/self/fd"


def _listening_tcp(fd: int) -> bool:
    """Whether ``fd`` is a listening IPv4/IPv6 stream socket (never closes ``fd``)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:  # not a socket (or already closed)
        return False
    try:
        return (sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1)
    except OSError:
        return False
    finally:
        sock.detach()


def set_nodelay_on_listeners() -> int:
    """Set ``TCP_NODELAY`` on every listening TCP socket of this process; returns how many."""
    try:
        fds = [int(name) for name in os.listdir(FD_DIR)]
    except OSError:  # no /proc (not Linux): nothing to do
        return 0
    count = 0
    for fd in fds:
        if not _listening_tcp(fd):
            continue
        sock = socket.socket(fileno=fd)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            count += 1
        except OSError as exc:  # pragma: no cover - a socket closed meanwhile
            log.debug("TCP_NODELAY not set on fd %d: %s", fd, exc)
        finally:
            sock.detach()
    return count
