"""Where WritingBench's real files are: the folder named by ``WRITINGBENCH_DATA``.

The folder holds ``benchmark_all.jsonl`` from WritingBench's public repository (and any
requirement subsets). Unset, it is ``../shared/data/writingbench`` relative to ``base`` (the
checkout, for the tests and the bench scripts), where CI keeps its copy.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "WRITINGBENCH_DATA"
DEFAULT = Path("..") / "shared" / "data" / "writingbench"
BENCHMARK_FILE = "benchmark_all.jsonl"


def writingbench_data_dir(base: str | os.PathLike | None = None) -> Path:
    """The WritingBench data folder: ``$WRITINGBENCH_DATA``, else ``base/../shared/data/writingbench``.

    A relative ``$WRITINGBENCH_DATA`` is taken relative to the working directory.

    Example:
        >>> os.environ.pop(ENV, None) and None
        >>> writingbench_data_dir("/repo").as_posix()
        '/shared/data/writingbench'
    """
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return (Path(base) if base is not None else Path.cwd()).joinpath(DEFAULT).resolve()
