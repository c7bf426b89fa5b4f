"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, llama.cpp, DashScope) via the ``openai`` SDK.

Structured output: by default the JSON schema is sent as ``response_format`` of type
``json_schema``; servers that only know llama-cpp-python's ``{"type": "json_object", "schema": ...}``
are detected from their 400/422 answer and switched over once (``structured="auto"``).

Example:
    >>> b = from_compatible_spec("http://127.0.0.1:8000/v1@tiny")
    >>> (b.name, b.base_url)
    ('openai-compatible:tiny', 'http://127.0.0.1:8000/v1')
"""

from __future__ import annotations

import json
import logging
from typing import Any

import openai

from metaeval.judges.base import Completion, Request, SdkBackend, read_key
from metaeval.judges.registry import SpecError

log = logging.getLogger(__name__)

STRUCTURED_MODES = ("auto", "json_schema", "json_object", "none")


class OpenAICompatibleBackend(SdkBackend):
    """Chat completions through ``openai.AsyncOpenAI`` with the SDK's own retries turned off."""

    provider = "openai-compatible"
    default_concurrency = 16

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 key_required: bool = False, structured: str = "auto", timeout: float = 120.0,
                 max_concurrency: int | None = None, provider: str | None = None, **_: Any) -> None:
        super().__init__(model, timeout=timeout, max_concurrency=max_concurrency)
        if structured not in STRUCTURED_MODES:
            raise ValueError(f"structured must be one of {STRUCTURED_MODES}, got {structured!r}")
        if provider:
            self.provider = provider  # type: ignore[misc]
        self.base_url = base_url
        self.api_key_env = api_key_env
        # Read now so a missing key fails before any work; kept only inside the client.
        self._key = read_key(api_key_env, required=key_required) or "no-key"
        self.structured = structured
        self._client: openai.AsyncOpenAI | None = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleBackend(model={self.model!r}, base_url={self.base_url!r})"

    def connection_key(self) -> str:
        return f"{self.provider}|{self.base_url or 'api.openai.com'}"

    def _get_client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(api_key=self._key, base_url=self.base_url, max_retries=0,
                                              timeout=self.timeout)
        return self._client

    def _response_format(self, request: Request, mode: str) -> dict[str, Any] | None:
        if request.json_schema is None or mode == "none":
            return None
        if mode == "json_object":
            return {"type": "json_object", "schema": dict(request.json_schema)}
        return {"type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": dict(request.json_schema), "strict": True}}

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        # The SDK's generic ``post`` sends the same request as ``chat.completions.create`` (same
        # client, auth, timeouts and error classes) but skips re-typing the request body and building
        # response models, about a millisecond of CPU per call on long prompts.
        resp = await self._get_client().post("/chat/completions", body=body, cast_to=object)
        if not isinstance(resp, dict):
            raise openai.APIResponseValidationError(response=None, body=resp,  # type: ignore[arg-type]
                                                    message="chat completion is not a JSON object")
        return resp

    async def complete(self, request: Request) -> Completion:
        mode = "json_schema" if self.structured == "auto" else self.structured
        kwargs: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in request.messages],
                                  "max_tokens": request.max_tokens, "temperature": request.temperature}
        if request.top_p is not None:
            kwargs["top_p"] = request.top_p
        if request.seed is not None:
            kwargs["seed"] = request.seed
        fmt = self._response_format(request, mode)
        if fmt is not None:
            kwargs["response_format"] = fmt
        try:
            resp = await self._post(kwargs)
        except openai.APIStatusError as exc:
            # Servers without json_schema support answer 400/422 (llama-cpp-python: 500) naming the field.
            if (self.structured != "auto" or fmt is None or fmt["type"] != "json_schema"
                    or exc.status_code not in (400, 422, 500) or "response_format" not in str(exc)):
                raise
            log.info("%s rejected response_format json_schema (%s); using json_object with a schema",
                     self.name, exc.status_code)
            self.structured = "json_object"
            kwargs["response_format"] = self._response_format(request, "json_object")
            resp = await self._post(kwargs)
        try:
            text = resp["choices"][0]["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise openai.APIResponseValidationError(response=None, body=resp,  # type: ignore[arg-type]
                                                    message="chat completion without choices[0].message") from exc
        usage = resp.get("usage") or {}
        return Completion(text=str(text), input_tokens=int(usage.get("prompt_tokens") or 0),
                          output_tokens=int(usage.get("completion_tokens") or 0))

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, openai.RateLimitError | openai.APITimeoutError | openai.APIConnectionError
                      | openai.InternalServerError | openai.APIResponseValidationError | json.JSONDecodeError):
            return True
        if isinstance(exc, openai.APIStatusError):
            return exc.status_code in (408, 409, 425, 429) or exc.status_code >= 500
        return super().should_retry(exc)


def from_openai_spec(target: str, *, api_key_env: str | None = None, **options: Any) -> OpenAICompatibleBackend:
    """``openai:MODEL`` -- the OpenAI API; the key must be in OPENAI_API_KEY (or ``api_key_env``)."""
    if not target:
        raise SpecError("judge spec 'openai:' needs a model, e.g. openai:gpt-4o")
    options.setdefault("structured", "json_schema")
    return OpenAICompatibleBackend(target, api_key_env=api_key_env or "OPENAI_API_KEY", key_required=True,
                                   provider="openai", **options)


def from_compatible_spec(target: str, *, api_key_env: str | None = None, **options: Any) -> OpenAICompatibleBackend:
    """``openai-compatible:URL@MODEL``; a key is sent only if the environment variable is set."""
    if "@" not in target:
        raise SpecError(f"judge spec 'openai-compatible:{target}' needs URL@MODEL, "
                        "e.g. openai-compatible:http://127.0.0.1:8000/v1@my-model")
    base_url, model = target.rsplit("@", 1)
    if not base_url.startswith(("http://", "https://")) or not model:
        raise SpecError(f"judge spec 'openai-compatible:{target}': expected http(s)://HOST[:PORT]/PATH@MODEL")
    return OpenAICompatibleBackend(model, base_url=base_url, api_key_env=api_key_env or "OPENAI_API_KEY",
                                   key_required=api_key_env is not None, **options)
