"""Setting up the model a command calls: ``--judge``/``--model NAME=SPEC`` to a named backend,
and a run engine over the command's answer cache.

``metaeval generate``, ``judge`` and ``grid`` (and any command that calls a model) go through
these two steps, so a model is named, built and cached the same way everywhere. The options
themselves are :func:`metaeval.judges.cli_options.add_engine_args`.

Example (inside a command's ``run``)::

    name, backend = named_backend(args.judge, args)     # "small=local:" -> ("small", the backend)
    with cached_engine(backend, args, Path(args.output), label=name) as engine:
        outcomes = engine.run(tasks)
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from metaeval.judges.base import Backend
from metaeval.judges.cli_options import default_judge_name, make_backend, make_engine, open_cache, split_judge
from metaeval.judges.engine import JudgeEngine


def named_backend(value: str, args: argparse.Namespace) -> tuple[str, Backend]:
    """The name and backend of ``value`` (``[NAME=]SPEC``); without a name, the model's short name."""
    name, spec = split_judge(value)
    backend = make_backend(spec, args)
    return name or default_judge_name(backend), backend


@contextlib.contextmanager
def cached_engine(backend: Backend, args: argparse.Namespace, cache_dir: Path, *, label: str) -> Iterator[JudgeEngine]:
    """A run engine for ``backend`` over the answer cache (``--cache``, else ``cache_dir/cache.sqlite``),
    closed when the block ends."""
    cache = open_cache(args, cache_dir)
    try:
        yield make_engine(backend, args, cache, label=label)
    finally:
        cache.close()
