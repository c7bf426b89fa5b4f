"""WEval-style requirement-drop groups: gold rankings without people.

For an instruction with C requirements, responses written to variants that drop 0, 1, ..., C-1 of
them form a group; the gold order is the number of requirements each variant kept. A judge's
order of the group (by ``score``) is compared with the gold order per group:

- ``kendall_tau``: Kendall's tau between the judge's ranks and the gold ranks, with ties broken as
  WEval's ``cal_corr.py`` breaks them: responses sorted by (score, len(instruction_id_list)), both
  descending, so among equal scores the one that kept more requirements is ranked first. That rule
  breaks every tie in the judge's favour (a judge giving one score to all responses gets tau = 1);
- ``kendall_tau_b``: tau-b between the raw scores and the kept counts with ties kept (a group in
  which the judge gave every response the same score counts 0: it ordered nothing);
- ``position_consistency``: 1 - mean |judge rank - gold rank| / (C - 1) (ranks as in kendall_tau);
- ``exact_match``: share of groups whose judge ranks equal the gold ranks.

Each is the mean over groups with a percentile bootstrap interval over groups.

Example (one group of three, kept 3, 2, 1, judge scores 9, 9, 4): the cal_corr ranks are 1, 2, 3,
equal to the gold ranks -> tau 1, position consistency 1, exact match 1; tau-b with ties kept:
pairs (1,2) tied in score, (1,3) and (2,3) concordant -> 2 / sqrt(2 * 3) = 0.8165.

    >>> g = Group(0, [Line(1, 9.0, 3), Line(2, 9.0, 2), Line(3, 4.0, 1)])
    >>> m = group_metrics(g)
    >>> m["kendall_tau"], m["position_consistency"], m["exact_match"], round(m["kendall_tau_b"], 4)
    (1.0, 1.0, 1.0, 0.8165)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metaeval.io import InputFileError, iter_jsonl

METRICS = ("kendall_tau", "kendall_tau_b", "position_consistency", "exact_match")
_SIZE_IN_NAME = re.compile(r"(\d+)c")  # WEval's scripts: the first digits followed by "c" in the file name


@dataclass(frozen=True)
class Line:
    """One response of a group: its file line, judge score and number of kept requirements."""

    line: int
    score: float
    kept: int


@dataclass(frozen=True)
class Group:
    """Consecutive lines forming one group (``number`` counts groups from 0 in file order)."""

    number: int
    lines: list[Line]
    key: str = ""


def group_size_from_name(path: str | Path) -> int | None:
    """The group size a WEval file name states (``..._4c.jsonl`` -> 4), as their scripts read it.

    >>> group_size_from_name("weval_qwen_5c.jsonl"), group_size_from_name("scores.jsonl")
    (5, None)
    """
    found = _SIZE_IN_NAME.search(Path(path).name)
    return int(found.group(1)) if found else None


def read_groups(path: str | Path, *, group_size: int | None = None, need_score: bool = True) -> list[Group]:
    """Read a scored (or unscored) groups file in WEval's layout; located errors for bad input.

    Lines are taken C at a time in file order, as ``cal_corr.py`` does; when lines carry a ``group``
    field, every line of a chunk must carry the same value (else the group's size differs from C).
    A trailing chunk shorter than C is an error here (``cal_corr.py`` silently skips it).
    """
    size = group_size or group_size_from_name(path)
    if size is None:
        raise InputFileError("no group size: pass --group-size C or put e.g. '4c' in the file name", path=path)
    if size < 2:
        raise InputFileError(f"group size {size} is below 2", path=path)
    rows: list[tuple[int, dict]] = list(iter_jsonl(path))
    for line, obj in rows:
        if need_score and "score" not in obj:
            raise InputFileError("missing", path=path, line=line, field="score")
        if need_score and (isinstance(obj["score"], bool) or not isinstance(obj["score"], int | float)
                           or not math.isfinite(float(obj["score"]))):
            raise InputFileError("expected a number", path=path, line=line, field="score")
        if "instruction_id_list" not in obj:
            raise InputFileError("missing", path=path, line=line, field="instruction_id_list")
        if not isinstance(obj["instruction_id_list"], list):
            raise InputFileError("expected a list", path=path, line=line, field="instruction_id_list")
    groups: list[Group] = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        keys = [obj.get("group") for _, obj in chunk]
        if len(chunk) < size:
            raise InputFileError(f"the last group has {len(chunk)} responses, not {size}", path=path,
                                 line=chunk[0][0], field="group")
        if any(k is not None for k in keys):
            for (line, _), k in zip(chunk, keys, strict=True):
                if k != keys[0]:
                    raise InputFileError(f"group {keys[0]!r} has a size other than {size} (this line starts "
                                         f"{k!r}): a response is missing or extra", path=path, line=line,
                                         field="group")
        lines = [Line(line, float(obj["score"]) if need_score else math.nan, len(obj["instruction_id_list"]))
                 for line, obj in chunk]
        groups.append(Group(len(groups), lines, "" if keys[0] is None else str(keys[0])))
    if not groups:
        raise InputFileError("no groups in the file", path=path)
    return groups


def cal_corr_ranks(group: Group) -> tuple[list[int], list[int]]:
    """(judge ranks, gold ranks) of each line, in line order, by WEval's rule (1 = best).

    Judge: sort by (score, kept) descending, stable for full ties. Gold: sort by label = C - kept
    descending (stable); a line's gold rank is C + 1 - its position in that order.
    """
    c = len(group.lines)
    order = sorted(range(c), key=lambda i: (group.lines[i].score, group.lines[i].kept), reverse=True)
    judge = [0] * c
    for rank, i in enumerate(order, 1):
        judge[i] = rank
    by_label = sorted(range(c), key=lambda i: c - group.lines[i].kept, reverse=True)
    gold = [0] * c
    for rank, i in enumerate(by_label, 1):
        gold[i] = c + 1 - rank
    return judge, gold


def _tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (ties kept); nan when either side is constant."""
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif dx * dy > 0:
                conc += 1
            else:
                disc += 1
    denom = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return (conc - disc) / denom if denom else math.nan


def group_metrics(group: Group) -> dict[str, float]:
    """The four per-group figures (module docstring)."""
    judge, gold = cal_corr_ranks(group)
    c = len(group.lines)
    scores = [ln.score for ln in group.lines]
    tau_b = 0.0 if len(set(scores)) == 1 else _tau_b(scores, [float(ln.kept) for ln in group.lines])
    return {"kendall_tau": _tau_b(judge, gold),
            "kendall_tau_b": tau_b,
            "position_consistency": 1.0 - sum(abs(a - b) for a, b in zip(judge, gold, strict=True)) / c / (c - 1),
            "exact_match": 1.0 if judge == gold else 0.0}


def per_group(groups: Sequence[Group]) -> np.ndarray:
    """groups x METRICS array of per-group figures."""
    return np.array([[group_metrics(g)[m] for m in METRICS] for g in groups], dtype=float)


def summarise(values: np.ndarray, *, n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict[str, Any]:
    """Mean per metric (nan groups left out) with a percentile bootstrap interval over groups."""
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    out: dict[str, Any] = {}
    idx = rng.integers(0, n, size=(n_resamples, n)) if n_resamples > 0 else None
    alpha = (1 - level) / 2
    for j, name in enumerate(METRICS):
        col = values[:, j]
        value = float(np.nanmean(col)) if np.any(~np.isnan(col)) else None
        ci: list[float | None] = [None, None]
        if idx is not None and value is not None:
            with np.errstate(all="ignore"):
                sample = col[idx]
                ok = ~np.isnan(sample)
                means = np.where(ok.any(axis=1), np.nansum(np.where(ok, sample, 0), axis=1) /
                                 np.maximum(ok.sum(axis=1), 1), np.nan)
            means = means[~np.isnan(means)]
            if means.size:
                ci = [float(x) for x in np.quantile(means, [alpha, 1 - alpha])]
        out[name] = {"value": value, "ci": ci}
    return out


def compare(named: Mapping[str, np.ndarray], *, n_permutations: int = 10_000, seed: int = 0) -> list[dict[str, Any]]:
    """Paired comparison of every two judges/methods on the same groups: mean difference per metric,
    sign-flip permutation p over groups, Holm-adjusted over all comparisons and metrics."""
    from metaeval.stats.paired import holm, sign_flip_test

    names = list(named)
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(seed)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            va, vb = named[a], named[b]
            if va.shape != vb.shape:
                raise ValueError(f"{a} and {b} have different numbers of groups ({va.shape[0]} and {vb.shape[0]})")
            d = va - vb
            for j, metric in enumerate(METRICS):
                col = d[:, j][~np.isnan(d[:, j])]
                p = float(sign_flip_test(col, n_permutations=n_permutations, rng=rng)[0]) if col.size else math.nan
                rows.append({"a": a, "b": b, "metric": metric, "difference": float(col.mean()) if col.size else None,
                             "n_groups": int(col.size), "p": p})
    adjusted: list[float] = [float(x) for x in holm([r["p"] for r in rows])] if rows else []
    for r, p_adj in zip(rows, adjusted, strict=True):
        r["p_holm"] = None if math.isnan(float(p_adj)) else float(p_adj)
        r["p"] = None if math.isnan(r["p"]) else r["p"]
    return rows
