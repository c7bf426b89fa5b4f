"""A persistent SQLite cache of judge completions.

The key is a SHA-256 over exactly what changes a model's answer: backend, model, prompt version,
the rendered messages and the sampling settings (including the output schema). Each completion
is committed as soon as it arrives (WAL journal), so a run killed at any moment loses at most the
calls still in flight, and a rerun repeats none of the finished ones. Keys, API keys and request
metadata are never stored -- only the model's text and token counts.

Example:
    >>> import tempfile, pathlib
    >>> from metaeval.judges.base import Completion
    >>> c = JudgeCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
    >>> k = cache_key({"backend": "x", "model": "m"}, "v1", [{"role": "user", "content": "hi"}], {})
    >>> c.put(k, Completion("ok", 3, 1), backend="x", model="m", prompt_version="v1")
    >>> c.get(k).text, len(c)
    ('ok', 1)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from metaeval.judges.base import Completion
from metaeval.private_files import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
)
"""


def key_header(identity: Mapping[str, str], prompt_version: str, sampling: Mapping[str, Any]) -> str:
    """The canonical JSON of the small parts of a key (the engine reuses it across calls)."""
    return json.dumps({"identity": dict(identity), "prompt_version": prompt_version, "sampling": dict(sampling)},
                      sort_keys=True, separators=(",", ":"))


def cache_key(identity: Mapping[str, str], prompt_version: str, messages: Sequence[Mapping[str, str]],
              sampling: Mapping[str, Any], *, header: str | None = None) -> str:
    """SHA-256 hex digest over everything that changes the answer.

    The small parts go in as canonical JSON (:func:`key_header`); each message is fed as
    length-prefixed fields (lengths in characters), which is unambiguous and avoids re-encoding long
    responses as JSON.

    >>> k1 = cache_key({"backend": "b", "model": "m"}, "v1", [{"role": "user", "content": "ab"}], {"t": 0})
    >>> k2 = cache_key({"backend": "b", "model": "m"}, "v1", [{"role": "user", "content": "a"}], {"t": 0})
    >>> len(k1), k1 == k2
    (64, False)
    """
    if header is None:
        header = key_header(identity, prompt_version, sampling)
    parts = [f"{len(header)}:{header}{len(messages)}:"]
    for m in messages:
        role, content = m["role"], m["content"]
        extra_txt = ""
        if len(m) > 2:
            extra_txt = json.dumps({k: v for k, v in m.items() if k not in ("role", "content")}, sort_keys=True)
        parts.append(f"{len(role)}:{role}{len(content)}:{content}{len(extra_txt)}:{extra_txt}")
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


class JudgeCache:
    """Completions by key in one SQLite file (safe to share between runs and judges)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_file(self.path)  # 0600, folders 0700; SQLite gives -wal/-shm the same mode
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(_SCHEMA)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def get(self, key: str) -> Completion | None:
        row = self._db.execute("SELECT text, input_tokens, output_tokens FROM completions WHERE key = ?",
                               (key,)).fetchone()
        return None if row is None else Completion(row[0], row[1], row[2])

    def get_many(self, keys: Iterable[str], *, chunk: int = 500) -> dict[str, Completion]:
        """Look up many keys at once (a fully cached rerun is one query per ``chunk`` keys)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, Completion] = {}
        for i in range(0, len(keys), chunk):
            part = keys[i:i + chunk]
            marks = ",".join("?" * len(part))
            for key, text, tin, tout in self._db.execute(
                    f"SELECT key, text, input_tokens, output_tokens FROM completions WHERE key IN ({marks})", part):
                out[key] = Completion(text, tin, tout)
        return out

    def put(self, key: str, completion: Completion, *, backend: str, model: str, prompt_version: str) -> None:
        """Store one completion and commit at once (kill-safe)."""
        self._db.execute(
            "INSERT OR REPLACE INTO completions (key, backend, model, prompt_version, text, input_tokens, "
            "output_tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, backend, model, prompt_version, completion.text, completion.input_tokens,
             completion.output_tokens, time.time()))

    def close(self) -> None:
        self._db.close()
