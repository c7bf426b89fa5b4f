"""Running a criteria-tree method (``tow``) through the judge engine, and what it writes.

Per query: one negotiator call per trial (trial 1's weights are the ones used for scoring). Per
response: one call per ``llm`` leaf (the usual 1-10 score prompt, so ``replay:`` can answer it),
one per ``llm-step`` leaf (0/5/10) and none for ``rule`` leaves. A response with any failed leaf,
or whose query's negotiation failed, gets no root score (it is listed in the failures file, never
defaulted). Every refused negotiator answer (weights outside (-1, 1) or a group not summing to 1)
counts in ``n_refused_weights``; a negotiation that succeeded after refusals also gets a failures
row with ``"recovered": true`` and the refused answers.

Files (in the output folder; ``{stem}`` = ``{judge}__{method}``):

- ``{stem}.long.jsonl``: one row per leaf ``{index, model, judge, method, criterion, score, weight,
  reason}`` (``weight`` = edge weight to the parent node; ``impression`` 1);
- ``wb/{model}__{stem}.jsonl``: WritingBench's layout with the root score per response,
  ``{"index", "model", "scores": {"tow": [{"score": root, "reason": ...}]}}``;
- ``{stem}.weights.jsonl``: the negotiated weights per query and trial;
- ``{stem}.failures.jsonl``.

Example (stability on two trials of one leaf): weights 0.4 then 0.2 -> delta 0.2, sigma sqrt(0.02).
    >>> d, s = weight_stability({"q": [{"a": 0.4}, {"a": 0.2}]})
    >>> round(d, 6), round(s, 6)
    (0.2, 0.141421)
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaeval.criteria.methods import CriteriaMethod, CriteriaTree, LLMAsk, MethodOptions, aggregate
from metaeval.criteria.schema import CriteriaError
from metaeval.io import InputFileError, iter_jsonl, write_text_atomic
from metaeval.judges.engine import AskTask, JudgeEngine, Outcome, ScoreTask
from metaeval.judges.output import failure_rows, safe_name

log = logging.getLogger(__name__)

ABLATIONS: dict[str, tuple[str, ...]] = {
    "full": ("content", "format", "impression"),
    "no-content": ("format", "impression"),
    "no-format": ("content", "impression"),
    "no-impression": ("content", "format"),
    "content-only": ("content",),
    "format-only": ("format",),
    "impression-only": ("impression",),
}


@dataclass
class TreeResult:
    """What a tree run produced: leaf rows, root scores, weights per trial, failures."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    roots: dict[tuple[str, str], float] = field(default_factory=dict)
    weights: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    refused_weights: int = 0
    n_tasks: int = 0  # engine calls asked for (negotiations and LLM leaves)


def _sort_key(k: tuple[str, str]) -> tuple[int, str, str]:
    return (int(k[0]) if k[0].lstrip("-").isdigit() else 0, k[0], k[1])


def run_tree_method(engine: JudgeEngine, method: CriteriaMethod, queries: Mapping[str, Mapping[str, Any]],
                    responses: Mapping[tuple[str, str], str], *, judge: str,
                    wanted: Iterable[tuple[str, str]] | None = None, options: MethodOptions | None = None,
                    trials: int = 1, source: str = "queries") -> TreeResult:
    """Score every wanted response under a tree method; one engine run for all calls."""
    options = options or MethodOptions()
    keys = sorted(wanted if wanted is not None else responses, key=_sort_key)
    trees: dict[str, CriteriaTree] = {}
    for index, model in keys:
        if index not in queries:
            raise CriteriaError(f"{source}: no query with index {index} (needed for model {model})")
        if (index, model) not in responses:
            raise CriteriaError(f"responses: no response of model {model!r} to query {index}")
        if index not in trees:
            q = queries[index]
            trees[index] = method.tree(q, options=options, where=f"{source}: line {q.get('_line', '?')}")
    tasks: list[ScoreTask | AskTask] = []
    for index in sorted(trees, key=lambda i: _sort_key((i, ""))) if method.negotiated else ():
        q = queries[index]
        for t in range(1, trials + 1):
            ask = method.negotiation(q, trees[index], t)
            if ask is not None:
                tasks.append(_ask_task(ask, q["index"], "", "negotiation", {"trial": t}))
    rule_scores: dict[tuple[str, str, str], int] = {}
    for index, model in keys:
        q, text = queries[index], responses[(index, model)]
        for leaf in trees[index].leaves:
            if leaf.scorer == "llm" and leaf.criterion is not None:
                tasks.append(ScoreTask(index=q["index"], model=model, criterion=leaf.criterion,
                                       query=str(q["query"]), response=text))
            elif leaf.scorer == "llm-step":
                tasks.append(_ask_task(method.step_request(q, text, leaf), q["index"], model, leaf.name, {}))
            elif leaf.scorer == "rule" and leaf.rule is not None:
                rule_scores[(index, model, leaf.name)] = int(leaf.rule(q, text))
    outcomes = engine.run(tasks)
    result = assemble(outcomes, trees, rule_scores, keys, judge=judge, method=method.name,
                      negotiated=method.negotiated, trials=trials)
    result.n_tasks = len(tasks)
    return result


def _ask_task(ask: LLMAsk, index: Any, model: str, label: str, meta: dict[str, Any]) -> AskTask:
    return AskTask(index=index, model=model, label=label, messages=ask.messages, parse=ask.parse,
                   version=ask.version, schema=ask.schema, schema_name=ask.schema_name, meta=meta)


def _leaf_name(o: Outcome) -> str:
    t = o.task
    if isinstance(t, ScoreTask):
        return t.criterion.name
    assert isinstance(t, AskTask)
    return t.label


def assemble(outcomes: Sequence[Outcome], trees: Mapping[str, CriteriaTree],
             rule_scores: Mapping[tuple[str, str, str], int], keys: Sequence[tuple[str, str]], *, judge: str,
             method: str, negotiated: bool, trials: int) -> TreeResult:
    """Root scores and leaf rows from the engine's outcomes (pure; no calls)."""
    res = TreeResult(failures=failure_rows(outcomes, judge=judge, method=method))
    weights_by_trial: dict[str, dict[int, dict[str, float]]] = defaultdict(dict)
    leaf: dict[tuple[str, str, str], tuple[int, str]] = {}
    display_index: dict[str, Any] = {}
    for o in outcomes:
        t = o.task
        if isinstance(t, AskTask) and t.label == "negotiation":
            res.refused_weights += len(o.raw) - (1 if o.ok else 0)
            if o.ok:
                weights_by_trial[str(t.index)][int(t.meta["trial"])] = o.value
                if len(o.raw) > 1:  # refused answers before the accepted one count as failures too
                    res.failures.append({"index": t.index, "judge": judge, "method": method, "model": "",
                                         "criterion": "negotiation", "trial": t.meta["trial"],
                                         "error": f"{len(o.raw) - 1} refused weight answer(s) before a valid one",
                                         "raw": o.raw[:-1], "recovered": True})
            continue
        if not o.ok or not isinstance(t, ScoreTask | AskTask):
            continue
        display_index[str(t.index)] = t.index
        leaf[(str(t.index), t.model, _leaf_name(o))] = (int(o.value), o.reason or "")
    for (index, model, name), score in rule_scores.items():
        leaf[(index, model, name)] = (score, "rule: heading check")
    for index, per in weights_by_trial.items():
        if 1 in per:
            res.weights[index] = [per[t] for t in sorted(per)]
    for index, model in keys:
        tree = trees[index]
        w = res.weights.get(index, [None])[0] if negotiated else None
        if negotiated and w is None:
            continue  # the negotiation failed: listed in failures
        if any((index, model, lf.name) not in leaf for lf in tree.leaves):
            continue
        scores = {lf.name: float(leaf[(index, model, lf.name)][0]) for lf in tree.leaves}
        weights = dict(w) if w is not None else {}
        for node, names in tree.groups:
            for name in names:
                weights.setdefault(name, 1.0 if node == name else 1.0 / len(names))
        res.roots[(index, model)] = aggregate(tree, scores, weights)
        idx = display_index.get(index, int(index) if index.lstrip("-").isdigit() else index)
        for lf in tree.leaves:
            s, reason = leaf[(index, model, lf.name)]
            res.rows.append({"index": idx, "model": model, "judge": judge, "method": method, "criterion": lf.name,
                             "score": s, "weight": weights[lf.name], "reason": reason})
    return res


def weight_stability(weights: Mapping[str, Sequence[Mapping[str, float]]]) -> tuple[float, float]:
    """HoWToBench's weight stability over trials: for each leaf weight l_k, delta = sum_{t>=2}
    |l_k(t) - l_k(1)| and sigma = sqrt(sum_t (l_k(t) - mean)^2), averaged over leaves and queries
    (queries with fewer than two successful trials are skipped; NaN when none is left)."""
    deltas, sigmas = [], []
    for per_trial in weights.values():
        if len(per_trial) < 2:
            continue
        for name in per_trial[0]:
            vals = [trial[name] for trial in per_trial if name in trial]
            mean = sum(vals) / len(vals)
            deltas.append(sum(abs(v - vals[0]) for v in vals[1:]))
            sigmas.append(math.sqrt(sum((v - mean) ** 2 for v in vals)))
    if not deltas:
        return float("nan"), float("nan")
    return sum(deltas) / len(deltas), sum(sigmas) / len(sigmas)


def write_tree_outputs(outdir: str | Path, result: TreeResult, *, judge: str, method: str,
                       trials: int = 1) -> dict[str, Any]:
    """Write the long, WritingBench, weights and failures files; return paths and counts."""
    outdir = Path(outdir)
    stem = f"{safe_name(judge)}__{safe_name(method)}"
    long_path = outdir / f"{stem}.long.jsonl"
    write_text_atomic(long_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in result.rows))
    by_model: dict[str, list[tuple[tuple[str, str], float]]] = defaultdict(list)
    for key, root in sorted(result.roots.items(), key=lambda kv: _sort_key(kv[0])):
        by_model[key[1]].append((key, root))
    index_of = {(str(r["index"]), r["model"]): r["index"] for r in result.rows}
    wb_paths = {}
    for model, items in sorted(by_model.items()):
        path = outdir / "wb" / f"{safe_name(model)}__{stem}.jsonl"
        lines = [{"index": index_of[key], "model": model,
                  "scores": {method: [{"score": round(root, 6), "reason": f"{method} root score"}]}}
                 for key, root in items]
        write_text_atomic(path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
        wb_paths[model] = str(path)
    weights_path = outdir / f"{stem}.weights.jsonl"
    write_text_atomic(weights_path, "".join(
        json.dumps({"index": index_of.get((i, ""), int(i) if i.lstrip("-").isdigit() else i), "trial": t + 1,
                    "weights": w}, ensure_ascii=False) + "\n"
        for i, per in sorted(result.weights.items(), key=lambda kv: _sort_key((kv[0], ""))) for t, w in enumerate(per)))
    fail_path = outdir / f"{stem}.failures.jsonl"
    write_text_atomic(fail_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in result.failures))
    summary: dict[str, Any] = {"long": str(long_path), "writingbench": wb_paths, "weights": str(weights_path),
                               "failures": str(fail_path), "n_scores": len(result.rows),
                               "n_roots": len(result.roots), "n_tasks": result.n_tasks,
                               "n_failures": len(result.failures),
                               "n_refused_weights": result.refused_weights}
    if trials > 1:
        delta, sigma = weight_stability(result.weights)
        summary["weight_stability"] = {"trials": trials, "delta": delta, "sigma": sigma,
                                       "queries": sum(1 for w in result.weights.values() if len(w) >= 2)}
    return summary


def read_tree_long(path: str | Path) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """Stored leaf rows of a tree method: {(index, model): {criterion: (score, weight)}}; located errors."""
    out: dict[tuple[str, str], dict[str, tuple[float, float]]] = defaultdict(dict)
    for line, obj in iter_jsonl(path):
        for fld in ("index", "model", "criterion", "score", "weight"):
            if fld not in obj:
                raise InputFileError("missing", path=path, line=line, field=fld)
        for fld in ("score", "weight"):
            if isinstance(obj[fld], bool) or not isinstance(obj[fld], int | float):
                raise InputFileError("expected a number", path=path, line=line, field=fld)
        out[(str(obj["index"]), str(obj["model"]))][str(obj["criterion"])] = (float(obj["score"]),
                                                                             float(obj["weight"]))
    return dict(out)


def ablate(leaves: Mapping[tuple[str, str], Mapping[str, tuple[float, float]]],
           nodes: tuple[str, ...]) -> dict[tuple[str, str], float]:
    """Root scores recomputed from stored leaves keeping only ``nodes`` (no new calls).

    A leaf's node is the part of its name before ``/`` (``impression`` is its own node). Responses
    with none of the kept nodes get no score.

    >>> leaves = {("1", "m"): {"content/logic": (8, 1.0), "format/structure": (5, 1.0), "impression": (6, 1)}}
    >>> ablate(leaves, ("content", "impression"))  # (1/2)*8 + (1/2)*6
    {('1', 'm'): 7.0}
    """
    out = {}
    for key, per in leaves.items():
        groups: dict[str, list[str]] = defaultdict(list)
        for name in per:
            groups[name.split("/")[0]].append(name)
        kept = tuple((node, tuple(names)) for node, names in groups.items() if node in nodes)
        if not kept:
            continue
        tree = CriteriaTree(leaves=(), groups=kept)
        out[key] = aggregate(tree, {n: s for n, (s, _) in per.items()}, {n: w for n, (_, w) in per.items()})
    return out
