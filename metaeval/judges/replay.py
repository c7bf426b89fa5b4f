"""Replay existing score files as if a judge produced them (no model is called).

``replay:FILE`` reads a long-layout file or a WritingBench evaluation file. A WritingBench file
without a ``model`` field applies to whatever response model is asked about. For each
(index, model, criterion) the first recorded score is returned as the JSON a live judge would
give, so replayed scores go through the same parsing and output code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from metaeval.io import detect_layout, iter_jsonl, read_scores
from metaeval.judges.base import Backend, BackendError, Completion, Request
from metaeval.judges.registry import SpecError

ANY_MODEL = "*"


class ReplayMissing(BackendError):
    """The file has no score for the asked (index, model, criterion)."""


class ReplayBackend(Backend):
    """Answers scoring requests from a score file, keyed by the request's ``meta``."""

    provider = "replay"
    cacheable = False
    default_concurrency = 64

    def __init__(self, path: str | Path, **options: Any) -> None:
        self.path = Path(path)
        super().__init__(self.path.name, timeout=options.get("timeout", 60.0),
                         max_concurrency=options.get("max_concurrency"))
        first = next(iter_jsonl(self.path), None)
        model = None
        if first is not None and detect_layout(first[1]) == "writingbench" and "model" not in first[1]:
            model = ANY_MODEL
        self._scores: dict[tuple[str, str, str], tuple[float, str]] = {}
        for rec in read_scores(self.path, model=model):
            self._scores.setdefault((str(rec.index), rec.model, rec.criterion), (rec.score, rec.reason))

    def __len__(self) -> int:
        return len(self._scores)

    async def complete(self, request: Request) -> Completion:
        meta = request.meta
        if meta.get("kind", "score") != "score":
            raise BackendError("the replay judge can only replay pointwise scores")
        index, model, criterion = str(meta.get("index")), str(meta.get("model")), str(meta.get("criterion"))
        hit = self._scores.get((index, model, criterion)) or self._scores.get((index, ANY_MODEL, criterion))
        if hit is None:
            raise ReplayMissing(f"{self.path}: no score for index {index}, model {model}, criterion {criterion!r}")
        score, reason = hit
        return Completion(text=json.dumps({"score": score, "reason": reason}, ensure_ascii=False))


def from_spec(target: str, **options: Any) -> ReplayBackend:
    """``replay:FILE``."""
    if not target:
        raise SpecError("judge spec 'replay:' needs a score file, e.g. replay:scores.jsonl")
    options.pop("api_key_env", None)
    options.pop("structured", None)
    return ReplayBackend(target, **options)
