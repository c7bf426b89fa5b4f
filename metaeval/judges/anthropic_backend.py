"""Anthropic models through the official ``anthropic`` SDK.

Structured output uses a forced tool call whose input schema is the requested JSON schema; the
tool input is returned as JSON text so parsing is the same as for every other backend.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import anthropic

from metaeval.judges.base import Completion, Request, SdkBackend, read_key
from metaeval.judges.registry import SpecError


class AnthropicBackend(SdkBackend):
    """Messages API via ``anthropic.AsyncAnthropic`` with the SDK's retries off."""

    provider = "anthropic"
    default_concurrency = 8

    def __init__(self, model: str, *, api_key_env: str = "ANTHROPIC_API_KEY", timeout: float = 120.0,
                 max_concurrency: int | None = None, base_url: str | None = None, **_: Any) -> None:
        super().__init__(model, timeout=timeout, max_concurrency=max_concurrency)
        self._key = read_key(api_key_env, required=True)
        self.base_url = base_url
        self._client: anthropic.AsyncAnthropic | None = None

    def __repr__(self) -> str:
        return f"AnthropicBackend(model={self.model!r})"

    def _get_client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(api_key=self._key, base_url=self.base_url, max_retries=0,
                                                    timeout=self.timeout)
        return self._client

    async def complete(self, request: Request) -> Completion:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [dict(m) for m in request.messages if m["role"] != "system"]
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": request.max_tokens}
        if system:
            kwargs["system"] = system
        # Recent SDK versions dropped the sampling arguments; send them only where the SDK has them.
        accepted = _create_parameters(self._get_client())
        if "temperature" in accepted:
            kwargs["temperature"] = request.temperature
        if request.top_p is not None and "top_p" in accepted:
            kwargs["top_p"] = request.top_p
        if request.json_schema is not None:
            kwargs["tools"] = [{"name": request.schema_name, "description": "Record the judgement.",
                                "input_schema": dict(request.json_schema)}]
            kwargs["tool_choice"] = {"type": "tool", "name": request.schema_name}
        resp = await self._get_client().messages.create(**kwargs)
        text = ""
        for block in resp.content:
            if getattr(block, "type", None) == "tool_use":
                text = json.dumps(block.input, ensure_ascii=False)
                break
            if getattr(block, "type", None) == "text":
                text += block.text
        usage = getattr(resp, "usage", None)
        return Completion(text=text, input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
                          output_tokens=int(getattr(usage, "output_tokens", 0) or 0))

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, anthropic.RateLimitError | anthropic.APITimeoutError | anthropic.APIConnectionError
                      | anthropic.InternalServerError):
            return True
        if isinstance(exc, anthropic.APIStatusError):
            return exc.status_code in (408, 409, 429) or exc.status_code >= 500
        return super().should_retry(exc)


def _create_parameters(client: anthropic.AsyncAnthropic) -> frozenset[str]:
    global _PARAMS
    if _PARAMS is None:
        _PARAMS = frozenset(inspect.signature(client.messages.create).parameters)
    return _PARAMS


_PARAMS: frozenset[str] | None = None


def from_spec(target: str, *, api_key_env: str | None = None, **options: Any) -> AnthropicBackend:
    """``anthropic:MODEL``; the key comes from ANTHROPIC_API_KEY (or ``api_key_env``)."""
    if not target:
        raise SpecError("judge spec 'anthropic:' needs a model, e.g. anthropic:claude-sonnet-4-5")
    options.pop("structured", None)
    return AnthropicBackend(target, api_key_env=api_key_env or "ANTHROPIC_API_KEY", **options)
