"""Memory estimates for the statistics commands, checked before the work starts.

``metaeval agreement|rankings|annotators|correlation`` hold the inputs as Python objects and the
bootstrap as dense arrays: replicates x clusters weights, replicates x statistics results, and
for rankings a queries x models x models win tensor per source. Each command calls one
``check_*`` function here with the sizes it knows (input files before reading them, counts once
they are read); when the estimate is over the limit the command stops with one line that names
the estimate, the limit and what to lower (exit 2), instead of a ``MemoryError`` traceback
minutes later.

Every other command is sized too: :func:`check_command_inputs` runs in :func:`metaeval.cli.main`
over all the input files a command line names (``--votes``, ``--queries``, ``--responses``,
``NAME=FILE``, ``replay:FILE`` ...) before any of them is read.

The limit is ``$METAEVAL_MEMORY_LIMIT`` (bytes, or with a K/M/G/T suffix: ``8G``), else 75% of
the machine's memory (or of the container's cgroup limit when lower). The estimates are upper
bounds with a safety factor, not predictions: a run they pass may use much less.

Example:
    >>> check_bootstrap(command="agreement", n_resamples=1000, n_clusters=300, n_statistics=20,
    ...                 limit=2**30)        # 1,000 x 20 x 8 bytes x 3 + 300,000 weights x 24: fine
    >>> try:
    ...     check_bootstrap(command="correlation", n_resamples=10**9, n_clusters=300, n_statistics=20,
    ...                     chunked=False, limit=2**30)
    ... except ResourceError as exc:
    ...     print(exc)
    correlation needs about 7.0 TiB of memory for bootstrap replicates (--bootstrap 1,000,000,000 x 320 values), over the limit of 1.0 GiB ($METAEVAL_MEMORY_LIMIT); lower --bootstrap to at most 139,810
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ENV_VAR", "ResourceError", "COLUMNAR_LOAD_FACTOR", "COLUMNAR_COMMANDS", "memory_limit", "parse_size", "human_bytes", "check_input_files",
           "check_bootstrap", "check_rankings", "INPUT_OPTIONS", "command_input_files", "check_command_inputs"]

ENV_VAR = "METAEVAL_MEMORY_LIMIT"
#: Bytes of Python objects (dicts, votes, data frames) per byte of JSON Lines read, and per byte
#: of a JSON array (read whole: its text and every element's dict are alive at once).
LOAD_FACTOR = 12
ARRAY_LOAD_FACTOR = 20
#: Bytes per byte of a JSON Lines vote file that a command reads into integer columns, no object
#: per vote (``metaeval agreement``: pyarrow's reader, or the line-by-line reader into codes).
#: Measured peaks of ``bench/table4.py``: with pyarrow's reader 965 MB for 171 MB of input at 1M
#: votes (5.6x) and 7.4 GB for 1.7 GB at 10M (4.4x); with the line-by-line reader (a file the fast
#: reader hands back) 1,355 MB at 1M (7.9x). 8 covers all three, and 10M votes (1.7 GB, 13.8 GB
#: estimated) fit the 18 GB limit of a 24 GB machine.
COLUMNAR_LOAD_FACTOR = 8
#: Commands that read their JSON Lines vote files (human votes and judge verdicts) into columns.
COLUMNAR_COMMANDS = frozenset({"agreement"})
#: Copies of the bootstrap arrays alive at once (draws, sums, sorted copies for intervals).
ARRAY_COPIES = 3
_FLOAT = 8
#: Resampling weights held at once by the chunked bootstraps (metaeval.stats.bootstrap).
CHUNK_CELLS = 20_000_000


class ResourceError(ValueError):
    """The run would need more memory than the limit; the message says what to lower."""


def parse_size(text: str) -> int:
    """Bytes from ``"123"``, ``"512M"``, ``"8G"``, ``"1.5T"`` (powers of 1024).

    Example:
        >>> parse_size("8G"), parse_size("512m"), parse_size("1000")
        (8589934592, 536870912, 1000)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text, re.IGNORECASE)
    if not m:
        raise ResourceError(f"${ENV_VAR}={text!r} is not a size (use bytes or a K/M/G/T suffix, e.g. 8G)")
    power = " kmgt".index(m[2].lower() or " ")
    return int(float(m[1]) * 1024 ** power)


def _machine_memory() -> int:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        cgroup = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if cgroup.isdigit():
            total = min(total, int(cgroup))
    except OSError:
        pass
    return total


def memory_limit() -> int:
    """The memory a run may plan to use (see the module docstring)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return parse_size(configured)
    return int(_machine_memory() * 0.75)


def human_bytes(n: float) -> str:
    """``1.5 GiB`` style.

    Example:
        >>> human_bytes(3 * 2**30), human_bytes(512)
        ('3.0 GiB', '512 B')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _over(command: str, need: float, what: str, advice: str, limit: int) -> ResourceError:
    return ResourceError(f"{command} needs about {human_bytes(need)} of memory for {what}, over the limit of "
                         f"{human_bytes(limit)} (${ENV_VAR}); {advice}")


def _load_factor(head: bytes, *, columnar: bool) -> int:
    """Bytes of memory per byte of a file that starts with ``head``: a JSON array is read whole, a
    JSON Lines vote file (its first line has a ``winner``) into columns when ``columnar``, any
    other file into Python objects.

    Example:
        >>> _load_factor(b'{"question_id": 1, "winner": "tie"}', columnar=True), _load_factor(b"[{", columnar=True)
        (8, 20)
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return ARRAY_LOAD_FACTOR
    if columnar and b'"winner"' in text.partition(b"\n")[0]:
        return COLUMNAR_LOAD_FACTOR
    return LOAD_FACTOR


def check_input_files(paths: Iterable[str | os.PathLike], *, command: str, limit: int | None = None,
                      columnar: bool | None = None) -> None:
    """Refuse input files too large to read into memory (before reading any of them: only the
    first 4 KiB of each, to tell its layout). ``columnar`` (default: ``command`` is one of
    :data:`COLUMNAR_COMMANDS`): JSON Lines vote files count :data:`COLUMNAR_LOAD_FACTOR` bytes of
    memory per byte, not :data:`LOAD_FACTOR`.

    Example:
        >>> check_input_files([], command="agreement")
    """
    limit = memory_limit() if limit is None else limit
    columnar = command in COLUMNAR_COMMANDS if columnar is None else columnar
    sizes = []
    need = 0
    factors = set()
    for p in paths:
        try:
            size = Path(p).stat().st_size
            with open(p, "rb") as fh:
                factor = _load_factor(fh.read(4096), columnar=columnar)
        except OSError:
            continue  # the reader names a missing file itself
        sizes.append((Path(p), size))
        factors.add(factor)
        need += size * factor
    if need > limit:
        biggest, size = max(sizes, key=lambda x: x[1])
        most = limit / (COLUMNAR_LOAD_FACTOR if factors == {COLUMNAR_LOAD_FACTOR} else LOAD_FACTOR)
        raise _over(command, need, f"reading {len(sizes)} input file(s) ({biggest.name}: {human_bytes(size)})",
                    f"split the input or use a smaller sample (at most about {human_bytes(most)} "
                    "of JSON Lines in all)", limit)


def check_bootstrap(*, command: str, n_resamples: int, n_clusters: int, n_statistics: int,
                    chunked: bool = True, fixed_bytes: float = 0, limit: int | None = None) -> None:
    """Refuse a bootstrap whose arrays would not fit: resamples x statistics results, plus the
    resampling weights (resamples x clusters; when ``chunked``, at most :data:`CHUNK_CELLS` of
    them at a time). ``fixed_bytes`` is what the run holds whatever ``--bootstrap`` is.
    """
    limit = memory_limit() if limit is None else limit
    values = max(n_statistics, 1) + (0 if chunked else max(n_clusters, 1))
    per_resample = values * _FLOAT * ARRAY_COPIES
    fixed = fixed_bytes + (min(n_resamples * max(n_clusters, 1), CHUNK_CELLS) * _FLOAT * ARRAY_COPIES
                           if chunked else 0)
    need = fixed + n_resamples * per_resample
    if need > limit:
        most = max(0, int((limit - fixed) // per_resample))
        raise _over(command, need, f"bootstrap replicates (--bootstrap {n_resamples:,} x {values:,} values)",
                    f"lower --bootstrap to at most {most:,}" if most else "use a smaller input", limit)


def check_rankings(*, n_resamples: int, n_queries: int, n_models: int, n_sources: int,
                   limit: int | None = None) -> None:
    """Refuse a rankings run whose win tensors (queries x models x models per source) or
    bootstrap arrays would not fit.

    Example:
        >>> try:
        ...     check_rankings(n_resamples=0, n_queries=10, n_models=10**6, n_sources=1, limit=2**30)
        ... except ResourceError as exc:
        ...     print(str(exc)[:78])
        rankings needs about 218.3 TiB of memory for the win counts (10 queries x 1,00
    """
    limit = memory_limit() if limit is None else limit
    tensor = float(n_queries) * n_models * n_models * _FLOAT * ARRAY_COPIES * max(n_sources, 1)
    if tensor > limit:
        raise _over("rankings", tensor, f"the win counts ({n_queries:,} queries x {n_models:,} models x "
                    f"{n_models:,} models x {max(n_sources, 1)} source(s))",
                    "rank fewer models (filter the votes) or fewer judges at once", limit)
    check_bootstrap(command="rankings", n_resamples=n_resamples, n_clusters=n_queries, chunked=False,
                    n_statistics=3 * n_models * max(n_sources, 1), fixed_bytes=tensor, limit=limit)


#: The options of the metaeval commands that name input files (``NAME=FILE``, ``[NAME=]FILE`` and
#: ``replay:FILE`` judge specs included).
INPUT_OPTIONS = ("votes", "judge", "model", "generator", "rewriter", "queries", "ratings", "gold", "responses",
                 "scores", "groups", "scored", "file", "static_global", "static_domain", "with_materials", "pairs",
                 "subset")


def command_input_files(args: object) -> list[Path]:
    """The existing regular files named by a parsed command line's input options (in order, once).

    Example:
        >>> import argparse, tempfile
        >>> f = tempfile.NamedTemporaryFile(suffix=".jsonl")
        >>> ns = argparse.Namespace(votes=f.name, judge=[f"j={f.name}", "replay:/nope"], output="x")
        >>> [p.name for p in command_input_files(ns)] == [Path(f.name).name]
        True
    """
    out: list[Path] = []
    for option in INPUT_OPTIONS:
        value = getattr(args, option, None)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if not isinstance(item, str) or not item:
                continue
            for candidate in (item, item.partition("=")[2], item.partition(":")[2]):
                path = Path(candidate) if candidate else None
                try:
                    if path is not None and path.is_file() and path not in out:
                        out.append(path)
                        break
                except OSError:  # a name too long or otherwise unusable: the reader names it
                    continue
    return out


def check_command_inputs(args: object, *, command: str, limit: int | None = None) -> None:
    """:func:`check_input_files` over every input file of a parsed command line, before any is read
    (the CLI calls it for every subcommand)."""
    check_input_files(command_input_files(args), command=command, limit=limit)


#: Allocations at least this large get their own pages from the system, returned when freed.
MMAP_THRESHOLD = 4 << 20


def tune_allocators() -> None:
    """Keep a command's memory near what it holds, not its history of temporaries (called once by
    the ``metaeval`` command line; a library caller keeps its own settings):

    * pyarrow allocates through the C library (its default pool keeps freed memory for reuse);
    * glibc serves arrays of :data:`MMAP_THRESHOLD` or more from pages of their own. By default
      the threshold rises after each large array is freed (up to 32 MB), and arrays below it
      then come from the heap, which keeps freed blocks: a million-vote study's temporaries
      would stay resident. Elsewhere than glibc this part does nothing.

    >>> tune_allocators()  # doctest: +SKIP
    """
    try:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    try:
        import ctypes

        m_mmap_threshold = -3  # glibc's malloc.h
        ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc
        pass


def release_freed_memory() -> None:
    """Give memory freed by a large read back to the system: pyarrow's pool keeps what its
    blocks used, and glibc's allocator keeps freed blocks in the heap, so after reading a large
    file the process would carry the reader's peak into the statistics that follow. Does nothing
    where neither applies (another C library, no pyarrow).

    >>> release_freed_memory()  # always safe to call
    """
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
