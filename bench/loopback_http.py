"""A minimal HTTP/1.1 keep-alive client for load generators on loopback (bench/ only).

httpx costs the bench ~6 ms of CPU per request, as much as the server it measures; on a
two-core machine the load generator then takes the CPU the servers need. This client does
the least HTTP needs for the JSON API: one request at a time per connection, a JSON body,
``Content-Length`` answers (what Starlette's ``JSONResponse`` sends), idle connections
reused per host and dropped after ``keepalive_s`` (before the server's own 5 s).

Example:
    >>> r = Response(200, {"server-timing": "app;dur=1.5"}, b'{"ok": true}')
    >>> r.status_code, r.json(), r.headers["server-timing"]
    (200, {'ok': True}, 'app;dur=1.5')
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Response:
    """Status, lower-cased headers and body of one answer."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Client:
    """``await client.get(url, headers=...)`` / ``await client.post(url, headers=..., json=...)``."""

    def __init__(self, *, timeout: float = 120.0, keepalive_s: float = 2.0) -> None:
        self.timeout, self.keepalive_s = timeout, keepalive_s
        self._idle: dict[tuple[str, int], list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]]] = {}

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for conns in self._idle.values():
            for _, _, writer in conns:
                writer.close()
        self._idle.clear()

    async def get(self, url: str, *, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", url, headers=headers)

    async def post(self, url: str, *, headers: dict[str, str] | None = None, json: Any = None) -> Response:
        return await self.request("POST", url, headers=headers, body=json)

    async def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                      body: Any = None) -> Response:
        parts = urlsplit(url)
        key = (parts.hostname or "127.0.0.1", parts.port or 80)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {key[0]}:{key[1]}", f"Content-Length: {len(data)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + data
        for attempt in (1, 2):
            reused, reader, writer = await self._connection(key)
            try:
                writer.write(raw)
                response = await asyncio.wait_for(self._read(reader), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if reused and attempt == 1:  # the server closed an idle connection: once more, fresh
                    continue
                raise
            if response.headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                self._idle.setdefault(key, []).append((time.monotonic(), reader, writer))
            return response
        raise AssertionError("unreachable")

    async def _connection(self, key: tuple[str, int]) -> tuple[bool, asyncio.StreamReader, asyncio.StreamWriter]:
        idle = self._idle.get(key, [])
        now = time.monotonic()
        while idle:
            since, reader, writer = idle.pop()
            if now - since < self.keepalive_s and not reader.at_eof():
                return True, reader, writer
            writer.close()
        reader, writer = await asyncio.open_connection(*key)
        return False, reader, writer

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise ValueError("chunked answers are not supported by this bench client")
        content = await reader.readexactly(int(headers.get("content-length", "0")))
        return Response(int(status_line.split(" ", 2)[1]), headers, content)
