"""Writing judge results: WritingBench's per-model score files, the long layout, failures, verdicts.

File names (inside the output folder), with unsafe characters replaced by ``_``:

- ``{judge}__{method}.long.jsonl`` -- the long layout ``{"index", "model", "judge", "method",
  "criterion", "score", "reason"}`` (docs/formats.md);
- ``wb/{model}__{judge}__{method}.jsonl`` -- WritingBench's layout, one file per response model;
- ``{judge}__{method}.failures.jsonl`` -- every task without a valid score, with the error and all
  raw answers (always written, empty when nothing failed);
- ``verdicts/{judge}__{method}.jsonl`` -- pairwise verdicts in FastChat's layout (grid command).

All files are written atomically (temporary file + rename).

Example:
    >>> safe_name("openai-compatible:http://x@m/1")
    'openai-compatible_http_x_m_1'
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from metaeval.io import write_scores_long, write_scores_writingbench, write_text_atomic, write_votes
from metaeval.judges.engine import AskTask, Outcome, PairTask, ScoreTask
from metaeval.types import ScoreRecord, Vote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return _UNSAFE.sub("_", text).strip("_") or "unnamed"


def score_records(outcomes: Iterable[Outcome], *, judge: str, method: str) -> list[ScoreRecord]:
    """Valid scoring outcomes as long-layout records (failures are left out, never defaulted)."""
    out = []
    for o in outcomes:
        if o.ok and isinstance(o.task, ScoreTask) and isinstance(o.value, int):
            out.append(ScoreRecord(index=o.task.index, model=o.task.model, judge=judge, method=method,
                                   criterion=o.task.criterion.name, score=int(o.value), reason=o.reason or ""))
    return out


def failure_rows(outcomes: Iterable[Outcome], *, judge: str, method: str) -> list[dict[str, Any]]:
    """One row per failed task: what was asked, the error, and every raw answer received."""
    rows = []
    for o in outcomes:
        if o.ok:
            continue
        t = o.task
        index = t.get("index") if isinstance(t, Mapping) else t.index
        row: dict[str, Any] = {"index": index, "judge": judge, "method": method}
        if isinstance(t, ScoreTask):
            row.update(model=t.model, criterion=t.criterion.name)
        elif isinstance(t, PairTask):
            row.update(model_a=t.model_a, model_b=t.model_b, order=t.order)
        elif isinstance(t, AskTask):
            row.update(model=t.model, criterion=t.label)
        row.update(error=o.error, raw=o.raw)
        rows.append(row)
    return rows


def write_score_outputs(outdir: str | Path, outcomes: Sequence[Outcome], *, judge: str,
                        method: str) -> dict[str, Any]:
    """Write the long file, one WritingBench file per model and the failures file; return paths."""
    outdir = Path(outdir)
    stem = f"{safe_name(judge)}__{safe_name(method)}"
    records = score_records(outcomes, judge=judge, method=method)
    long_path = outdir / f"{stem}.long.jsonl"
    write_scores_long(long_path, records)
    by_model: dict[str, list[ScoreRecord]] = defaultdict(list)
    for r in records:
        by_model[r.model].append(r)
    wb_paths = {}
    for model, recs in sorted(by_model.items()):
        path = outdir / "wb" / f"{safe_name(model)}__{stem}.jsonl"
        write_scores_writingbench(path, recs)
        wb_paths[model] = str(path)
    fail_path = outdir / f"{stem}.failures.jsonl"
    rows = failure_rows(outcomes, judge=judge, method=method)
    write_text_atomic(fail_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return {"long": str(long_path), "writingbench": wb_paths, "failures": str(fail_path),
            "n_scores": len(records), "n_failures": len(rows)}


def mean_scores(records: Iterable[ScoreRecord]) -> dict[tuple[str, str], float]:
    """Mean criterion score per (index as text, model) -- WritingBench's response score.

    >>> recs = [ScoreRecord(1, "m", "j", "x", c, s) for c, s in (("a", 6), ("b", 9))]
    >>> mean_scores(recs)
    {('1', 'm'): 7.5}
    """
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in records:
        sums[(str(r.index), r.model)].append(r.score)
    return {k: sum(v) / len(v) for k, v in sums.items()}


def verdicts_from_scores(pairs: Iterable[tuple[Any, str, str]], means: Mapping[tuple[str, str], float], *,
                         judge: str) -> tuple[list[Vote], list[tuple[Any, str, str]]]:
    """Turn mean scores into pairwise verdicts: higher mean wins, equal means tie.

    Pairs where either response has no valid score get no verdict and are returned separately.

    >>> v, missing = verdicts_from_scores([(1, "a", "b")], {("1", "a"): 6.0, ("1", "b"): 7.2}, judge="j")
    >>> v[0].winner, missing
    ('model_b', [])
    """
    votes, missing = [], []
    for qid, ma, mb in pairs:
        sa, sb = means.get((str(qid), ma)), means.get((str(qid), mb))
        if sa is None or sb is None:
            missing.append((qid, ma, mb))
            continue
        winner = "model_a" if sa > sb else "model_b" if sb > sa else "tie"
        votes.append(Vote(question_id=qid, model_a=ma, model_b=mb, winner=winner, judge=judge,
                          extra=(("score_a", round(sa, 4)), ("score_b", round(sb, 4)))))
    return votes, missing


def pairwise_votes(outcomes: Iterable[Outcome], *, judge: str) -> list[Vote]:
    """Valid pairwise outcomes as FastChat votes carrying the presentation ``order``."""
    votes = []
    for o in outcomes:
        if o.ok and isinstance(o.task, PairTask):
            t = o.task
            votes.append(Vote(question_id=t.index, model_a=t.model_a, model_b=t.model_b, winner=str(o.value),
                              judge=judge, order=t.order, shown_left="model_a" if t.order == "ab" else "model_b"))
    return votes


def write_verdicts(path: str | Path, votes: Sequence[Vote]) -> str:
    """Write verdicts in FastChat's layout (what ``metaeval agreement --judge NAME=FILE`` reads)."""
    write_votes(path, votes)
    return str(path)
