"""Command-line options shared by ``metaeval judge``, ``grid`` and ``criteria generate``."""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from metaeval.criteria.schema import CriteriaError
from metaeval.io import InputFileError
from metaeval.judges.base import Backend, BackendError
from metaeval.judges.cache import JudgeCache
from metaeval.judges.engine import EngineSettings, JudgeEngine
from metaeval.judges.registry import BackendUnavailable, SpecError, create_backend
from metaeval.redact import install_log_redaction, redact


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """Options of the run engine and backends (the --judge option itself is added by each command)."""
    g = parser.add_argument_group("judge backend and run engine")
    g.add_argument("--api-key-env", metavar="NAME",
                   help="environment variable holding the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY)")
    g.add_argument("--structured", choices=("auto", "json_schema", "json_object", "none"), default="auto",
                   help="how OpenAI-compatible servers are asked for schema-constrained JSON (default auto)")
    g.add_argument("--cache", metavar="FILE", help="SQLite cache file (default OUTPUT/cache.sqlite)")
    g.add_argument("--concurrency", type=int, metavar="N", help="concurrent calls per backend")
    g.add_argument("--timeout", type=float, default=120.0, metavar="S", help="seconds per call (default 120)")
    g.add_argument("--max-tokens", type=int, default=1024, metavar="N")
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--top-p", type=float)
    g.add_argument("--seed", type=int, help="sampling seed sent to the backend")
    g.add_argument("--max-invalid", type=int, default=3, metavar="K",
                   help="answers per task before an unusable answer is recorded as a failure (default 3)")
    g.add_argument("--max-attempts", type=int, default=6, metavar="K",
                   help="transport attempts per call (429, 5xx, timeouts; default 6)")
    g.add_argument("--backoff-base", type=float, default=1.0, metavar="S", help="first backoff ceiling in seconds")
    g.add_argument("--price", metavar="IN,OUT", help="USD per million input,output tokens for the cost estimate")
    g.add_argument("--no-progress", action="store_true", help="no progress line")


def split_judge(value: str) -> tuple[str | None, str]:
    """``NAME=SPEC`` or ``SPEC`` -> (name or None, spec).

    >>> split_judge("small=local:")
    ('small', 'local:')
    >>> split_judge("openai:gpt-4o")
    (None, 'openai:gpt-4o')
    """
    head = value.split(":", 1)[0]
    if "=" in head:
        name, spec = value.split("=", 1)
        return name, spec
    return None, value


def default_judge_name(backend: Backend) -> str:
    """A short name for output files: the model (file stem for replay/local files)."""
    model = re.sub(r"\.(gguf|jsonl|json)$", "", backend.model)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or backend.provider


def make_backend(spec: str, args: argparse.Namespace) -> Backend:
    """The backend for ``spec`` with the command's options; HTTP client chatter is kept out of the log."""
    install_log_redaction()  # the key is known from here on; no log line may carry it
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        for noisy in ("httpx", "httpx2", "httpcore", "openai", "anthropic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    options: dict = {"timeout": args.timeout, "structured": args.structured}
    if args.api_key_env:
        options["api_key_env"] = args.api_key_env
    if args.concurrency:
        options["max_concurrency"] = args.concurrency
    return create_backend(spec, **options)


def make_engine(backend: Backend, args: argparse.Namespace, cache: JudgeCache | None, label: str) -> JudgeEngine:
    price = None
    if args.price:
        try:
            pin, pout = (float(x) for x in args.price.split(","))
        except ValueError as exc:
            raise ValueError(f"--price expects IN,OUT numbers, got {args.price!r}") from exc
        price = (pin, pout)
    settings = EngineSettings(max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p,
                              seed=args.seed, max_invalid=args.max_invalid, max_attempts=args.max_attempts,
                              backoff_base=args.backoff_base, timeout=args.timeout,
                              structured=args.structured != "none")
    return JudgeEngine(backend, cache=cache, settings=settings, progress=not args.no_progress, price=price,
                       label=label)


def open_cache(args: argparse.Namespace, default_dir: Path) -> JudgeCache:
    return JudgeCache(args.cache or default_dir / "cache.sqlite")


INTERRUPTED = "interrupted; rerun the same command to resume"
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def resumable(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wrap a command whose finished calls are cached: Ctrl-C prints one line and exits 130.

    Answers already received are in the cache (each written in its own transaction), so running the
    same command again resumes where it stopped.
    """

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KeyboardInterrupt:
            end_bar = "\n" if sys.stderr.isatty() else ""  # below a half-drawn progress bar
            print(f"{end_bar}metaeval: {INTERRUPTED}", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED

    return wrapper


@contextlib.contextmanager
def user_errors(error_cls: type[Exception]) -> Iterator[None]:
    """Turn expected input/backend problems into the CLI's one-line error."""
    try:
        yield
    except (CriteriaError, InputFileError, SpecError, BackendUnavailable, BackendError, ValueError) as exc:
        raise error_cls(redact(str(exc))) from exc
