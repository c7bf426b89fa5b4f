"""The small abstract judge backend every provider implements.

A backend turns one :class:`Request` (chat messages plus sampling settings and an optional JSON
schema for the output) into one :class:`Completion`. Everything else -- caching, concurrency,
retries, parsing -- lives in :mod:`metaeval.judges.engine`, so a provider only answers three
questions: how to call the model (:meth:`Backend.complete`), which errors are worth retrying
(:meth:`Backend.should_retry`, :meth:`Backend.retry_after`) and which calls share a rate limit
(:meth:`Backend.connection_key`).

Example:
    >>> class Echo(Backend):
    ...     provider = "echo"
    ...     async def complete(self, request):
    ...         return Completion(text=request.messages[-1]["content"])
    >>> import asyncio
    >>> asyncio.run(Echo("m").complete(Request(messages=({"role": "user", "content": "hi"},)))).text
    'hi'
"""

from __future__ import annotations

import asyncio
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from metaeval.redact import register_secret


@dataclass(frozen=True)
class Request:
    """One model call. ``meta`` identifies the task (index, model, criterion ...) and is never
    part of the cache key; only the replay backend reads it."""

    messages: tuple[Mapping[str, str], ...]
    max_tokens: int = 1024
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    json_schema: Mapping[str, Any] | None = None
    schema_name: str = "output"
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def sampling(self) -> dict[str, Any]:
        """The settings that change the output (part of the cache key)."""
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p,
                "seed": self.seed, "json_schema": self.json_schema}


@dataclass(frozen=True)
class Completion:
    """The model's text and, where the provider reports them, token counts."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class BackendError(RuntimeError):
    """A call failed in a way the provider explained (the message never holds a key)."""


class MissingKeyError(BackendError):
    """The environment variable that should hold the API key is unset."""


class Backend(ABC):
    """A judge model behind some API.

    Subclasses set :attr:`provider` and implement :meth:`complete`. Keys are read from the
    environment when the backend is created (never at import time) and kept only in the client.
    """

    provider: ClassVar[str] = "abstract"
    #: Whether completions may be cached (replay already reads from a file).
    cacheable: ClassVar[bool] = True
    #: Default concurrent calls for this provider.
    default_concurrency: ClassVar[int] = 8

    def __init__(self, model: str, *, timeout: float = 120.0, max_concurrency: int | None = None) -> None:
        self.model = model
        self.timeout = float(timeout)
        self.max_concurrency = int(max_concurrency or self.default_concurrency)

    @property
    def name(self) -> str:
        """A readable identity, ``provider:model`` (no secrets)."""
        return f"{self.provider}:{self.model}"

    def cache_identity(self) -> dict[str, str]:
        """What identifies this backend in the cache key (provider and model)."""
        return {"backend": self.provider, "model": self.model}

    def connection_key(self) -> str:
        """Calls with the same key share one concurrency limit (one rate-limited account or server)."""
        return self.name

    @abstractmethod
    async def complete(self, request: Request) -> Completion:
        """Call the model once; raise on any failure (the engine decides about retries)."""

    def should_retry(self, exc: BaseException) -> bool:
        """Whether a failed call may succeed if repeated. Timeouts and connection errors do."""
        return isinstance(exc, asyncio.TimeoutError | TimeoutError | ConnectionError)

    def retry_after(self, exc: BaseException) -> float | None:
        """Seconds the server asked us to wait (Retry-After), if it said so."""
        return None

    async def aclose(self) -> None:
        """Release clients and connections (nothing to release by default)."""
        return None


class SdkBackend(Backend):
    """A backend whose calls go through a provider SDK client (OpenAI's, Anthropic's).

    The client is made on first use and kept in ``self._client``; the SDK's errors carry the
    HTTP response, whose Retry-After headers give the wait.
    """

    _client: Any = None

    def retry_after(self, exc: BaseException) -> float | None:
        response = getattr(exc, "response", None)
        return parse_retry_after(getattr(response, "headers", None))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def read_key(env_name: str, *, required: bool) -> str | None:
    """Read an API key from the environment variable ``env_name``.

    >>> read_key("METAEVAL_SURELY_UNSET_VAR", required=False) is None
    True
    """
    value = os.environ.get(env_name)
    if value:
        register_secret(value)  # masked in every file, log line and error metaeval writes
        return value
    if required:
        raise MissingKeyError(f"set the environment variable {env_name} to the API key (keys are read from "
                              "the environment only)")
    return None


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds; HTTP dates are ignored).

    >>> parse_retry_after({"retry-after": "2"})
    2.0
    >>> parse_retry_after({"retry-after-ms": "250"})
    0.25
    >>> parse_retry_after({}) is None
    True
    """
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = lowered.get(key)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value
    return None
