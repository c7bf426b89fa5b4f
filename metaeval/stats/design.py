"""Design-based agreement for votes that carry their design (after ``annotate study extend``).

``annotate export votes`` writes each vote's allocation round, the round's strategy and, for an
extension, ``design_expected`` = ``e_i`` (the expected number of the round's votes on the pair).
After an *adaptive* round the votes per pair depend on the votes already in, so pooling them
biases every agreement figure. This module applies the estimator of
:mod:`metaeval.stats.allocation` (the one the app's Agreement page uses for an extension's
target) to every judge row and every paired difference:

* phase 1 = the votes of the rounds before the last one, phase 2 = the last round's votes;
* a row's per-vote outcome is ``[h == v_J]``, a difference's is ``[h == v_A] - [h == v_B]``
  (:func:`~metaeval.stats.allocation.vote_differences`; pairs where ``v_A == v_B`` are structural
  zeros);
* the last round adaptive: :func:`~metaeval.stats.allocation.adaptive_estimate` with the
  recorded ``e_i`` (``design_last_expected``, on every vote of a pair, so that a pair the round
  drew no vote for keeps its ``e_i``) scaled by the share of the round's planned votes present (votes still
  missing are taken as missing at random, as on the page); otherwise the mean over pairs of
  each pair's mean (:func:`~metaeval.stats.allocation.uniform_estimate`).

The estimand is the mean over the study's pairs of each pair's expected agreement (with the
same number of votes on every pair, the pooled per-vote figure). Intervals are normal; paired
p-values are two-sided normal, Holm-adjusted.

Example (by hand): one pair, judge verdict +1, phase-1 votes [+1, -1], adaptive round with
``e = 2`` and votes [+1, +1]: d1 = [1, 0], d2 = [1, 1]; ybar1 = 0.5, R = (0.5 + 0.5) / 2 = 0.5;
phase-1 s^2 = (0.5 + 2 * 0.5) / 3 = 0.5, V1 = 0.25, W = 0.5 * 1.5 / 2 = 0.375, c = 0.4;
estimate 0.5 + 0.4 * 0.5 = 0.7.

    >>> import pandas as pd
    >>> votes = pd.DataFrame({"qid": ["1"] * 4, "lo": ["a"] * 4, "hi": ["b"] * 4,
    ...                       "outcome": [1, -1, 1, 1], "design_round": [0, 0, 1, 1],
    ...                       "design_strategy": ["fixed", "fixed", "adaptive", "adaptive"],
    ...                       "design_expected": [None, None, 2.0, 2.0], "design_round_votes": [None, None, 2, 2],
    ...                       "design_last_expected": [2.0] * 4})
    >>> verdicts = pd.DataFrame({"qid": ["1"], "lo": ["a"], "hi": ["b"], "verdict": [1.0]})
    >>> round(design_estimates(votes, {"J": verdicts})["rows"]["J"].value, 3)
    0.7
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from metaeval.arrow_votes import VoteColumns
from metaeval.stats import allocation
from metaeval.stats.paired import holm

log = logging.getLogger(__name__)

__all__ = ["DESIGN_FIELDS", "ESTIMATOR_DESIGN", "ESTIMATOR_POOLED", "read_vote_design", "vote_design_frame", "RoundCounts", "round_counts",
           "design_estimates", "apply_design"]

DESIGN_FIELDS = ("design_round", "design_strategy", "design_expected", "design_round_votes", "design_last_expected")
ESTIMATOR_DESIGN = "design-based"
ESTIMATOR_POOLED = "pooled"
_SIGN = {"model_a": 1, "model_b": -1}


def _rows(path: Path) -> list[dict]:
    from metaeval.fastchat import is_json_array
    from metaeval.io import iter_jsonl
    from metaeval.json_stream import iter_json_array

    # streamed: a JSON array element by element, JSON Lines line by line
    rows = iter_json_array(path) if is_json_array(path) else iter_jsonl(path)
    return [obj for _, obj in rows if isinstance(obj, dict)]


def read_vote_design(path: str | os.PathLike, *, columns: VoteColumns | None = None) -> pd.DataFrame | None:
    """The overall, current votes of a JSON Lines (or FastChat JSON array) file with their design,
    or ``None`` when no vote belongs to an extension round (a fixed design: pool as before).

    Columns: ``qid``, ``lo``, ``hi`` (models sorted by name), ``outcome`` (+1 lo wins, -1 hi
    wins, 0 tie) and :data:`DESIGN_FIELDS`. ``columns``: the file as the fast reader read it
    (:func:`metaeval.io.read_votes_frame_and_columns`), which saves reading it again.
    """
    if columns is not None:
        fast = _design_from_columns(columns)
        if fast is not _UNSURE:
            return fast
    return vote_design_frame(enumerate(_rows(Path(path)), start=1), source=str(path))


def vote_design_frame(rows: Iterable[tuple[int, Mapping]], *, source: str = "<votes>") -> pd.DataFrame | None:
    """:func:`read_vote_design` of votes given as ``(line or row number, FastChat-layout dict with
    the design fields)`` (e.g. ``annotate``'s votes with their design, as the export writes them).

    >>> vote_design_frame([(1, {"question_id": 1, "model_a": "b", "model_b": "a", "winner": "model_a"})]) is None
    True
    """
    out = list(rows)
    if not any(int(o.get("design_round") or 0) > 0 for _, o in out):
        return None
    recs = []
    for n, obj in out:
        if obj.get("criterion") or obj.get("stale"):
            continue
        a, b = str(obj["model_a"]), str(obj["model_b"])
        winner = str(obj.get("winner", ""))
        o = _SIGN.get(winner, 0 if winner.startswith("tie") else None)
        if o is None:
            raise ValueError(f"{source}: line {n}: field 'winner': unknown value {winner!r}")
        swap = a > b
        expected = obj.get("design_expected")
        recs.append({"qid": str(obj["question_id"]), "lo": b if swap else a, "hi": a if swap else b,
                     "outcome": -o if swap else o, "design_round": int(obj.get("design_round") or 0),
                     "design_strategy": str(obj.get("design_strategy") or "fixed"),
                     "design_expected": float(expected) if expected not in (None, "") else None,
                     "design_round_votes": obj.get("design_round_votes"),
                     "design_last_expected": _float(obj.get("design_last_expected"))})
    return pd.DataFrame(recs)


_UNSURE = pd.DataFrame()  # the columns cannot answer: read the file line by line


def _design_from_columns(cols: VoteColumns) -> pd.DataFrame | None:
    """:func:`read_vote_design` from the fast reader's columns (the same records), or ``_UNSURE``
    when a winner needs the line-by-line reader's error."""
    rounds = cols.numbers.get("design_round")
    if rounds is None or not (np.nan_to_num(rounds) > 0).any():
        return None
    crit = cols.optional.get("criterion")
    keep = ~cols.stale
    if crit is not None:
        keep &= ~np.array([bool(c) for c in crit.tolist()], dtype=bool)
    signs = [_SIGN.get(w, 0 if w.startswith("tie") else None) for w in cols.raw_winners]
    if any(signs[c] is None for c in np.unique(cols.raw_code[keep]).tolist()):
        return _UNSURE
    rows = np.flatnonzero(keep)
    qid = np.asarray(cols.qid, dtype=object)[cols.q_code[rows]].tolist()
    a = np.asarray(cols.models, dtype=object)[cols.a_code[rows]].tolist()
    b = np.asarray(cols.models, dtype=object)[cols.b_code[rows]].tolist()
    o = np.asarray([s if s is not None else 0 for s in signs], dtype=np.int64)[cols.raw_code[rows]].tolist()

    def column(name: str) -> list:
        values = cols.numbers.get(name)
        return [None] * len(rows) if values is None else [None if v != v else v for v in values[rows].tolist()]

    def text(name: str) -> list:
        values = cols.optional.get(name)
        return [None] * len(rows) if values is None else values[rows].tolist()

    recs = []
    for q, ma, mb, out, rnd, strat, exp, votes, last in zip(
            qid, a, b, o, column("design_round"), text("design_strategy"), column("design_expected"),
            column("design_round_votes"), column("design_last_expected"), strict=True):
        swap = ma > mb
        recs.append({"qid": q, "lo": mb if swap else ma, "hi": ma if swap else mb, "outcome": -out if swap else out,
                     "design_round": int(rnd or 0), "design_strategy": str(strat or "fixed"),
                     "design_expected": float(exp) if exp is not None else None,
                     "design_round_votes": int(votes) if votes is not None else None,
                     "design_last_expected": float(last) if last is not None else None})
    return pd.DataFrame(recs)


@dataclass(frozen=True)
class RoundCounts:
    """How a design's votes fall on their pairs: ``pair`` (each vote's pair number, pairs numbered
    by first appearance), ``n_pairs``, ``is_last`` (the vote belongs to the last round),
    ``adaptive`` (the last round is an adaptive extension), and per pair ``expected_last``
    (``e_i``, the last round's expected votes; 0 where none), ``earlier`` (``k_i``, votes of the
    rounds before the last) and ``total`` (``n_i``)."""

    pair: np.ndarray
    n_pairs: int
    is_last: np.ndarray
    adaptive: bool
    expected_last: np.ndarray
    earlier: np.ndarray
    total: np.ndarray


def round_counts(design: pd.DataFrame) -> RoundCounts:
    """:class:`RoundCounts` of :func:`read_vote_design`'s frame (the weights of
    :func:`metaeval.stats.rankings.design_weights` and
    :func:`metaeval.stats.annotators.competence_weights` are built from them).

    Example (by hand): pair 1 has two round-0 votes and one adaptive vote with ``e = 2``:
    ``k = 2``, ``e = 2``, ``n = 3``.

    >>> d = pd.DataFrame({"qid": ["1"] * 3, "lo": ["a"] * 3, "hi": ["b"] * 3, "design_round": [0, 0, 1],
    ...                   "design_strategy": ["fixed", "fixed", "adaptive"], "design_last_expected": [2.0] * 3})
    >>> c = round_counts(d)
    >>> c.adaptive, c.earlier.tolist(), c.expected_last.tolist(), c.total.tolist()
    (True, [2.0], [2.0], [3.0])
    """
    d = design.reset_index(drop=True)
    pair = pd.MultiIndex.from_frame(d[["qid", "lo", "hi"]]).factorize()[0]
    n_pairs = int(pair.max()) + 1 if len(pair) else 0
    last = int(d["design_round"].max()) if len(d) else 0
    is_last = (d["design_round"] == last).to_numpy()
    adaptive = last > 0 and bool((d.loc[is_last, "design_strategy"] == "adaptive").all())
    e = np.zeros(n_pairs)
    if adaptive:
        e_col = d["design_last_expected"] if "design_last_expected" in d else d["design_expected"]
        np.maximum.at(e, pair, pd.to_numeric(e_col, errors="coerce").fillna(0.0).to_numpy(dtype=float))
    return RoundCounts(pair=pair, n_pairs=n_pairs, is_last=is_last, adaptive=adaptive, expected_last=e,
                       earlier=np.bincount(pair[~is_last], minlength=n_pairs).astype(float),
                       total=np.bincount(pair, minlength=n_pairs).astype(float))


def _norm_sf(z: float) -> float:
    """Upper tail of the standard normal (scipy imported here: a fixed design never needs it)."""
    from scipy.stats import norm

    return float(norm.sf(z))


def _float(value: object) -> float | None:
    return None if value in (None, "") else float(value)  # type: ignore[arg-type]


def _verdict_map(verdicts: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    return {(str(q), str(lo), str(hi)): float(v)
            for q, lo, hi, v in zip(verdicts["qid"], verdicts["lo"], verdicts["hi"], verdicts["verdict"], strict=True)}


def design_estimates(votes: pd.DataFrame, verdicts: Mapping[str, pd.DataFrame], *,
                     level: float = 0.95) -> dict:
    """Design-based estimates for every judge row and every two judges.

    Args:
        votes: :func:`read_vote_design`'s frame.
        verdicts: judge name -> per-pair verdicts (columns ``qid``, ``lo``, ``hi``, ``verdict``).

    Returns ``{"rows": {name: Estimate}, "differences": {(a, b): Estimate}, "notes": [...]}``.
    """
    last = int(votes["design_round"].max())
    last_votes = votes[votes["design_round"] == last]
    adaptive = last > 0 and (last_votes["design_strategy"] == "adaptive").all()
    notes: list[str] = []
    earlier = votes[(votes["design_round"] > 0) & (votes["design_round"] < last)]
    if (earlier["design_strategy"] == "adaptive").any():
        notes.append("earlier adaptive rounds are counted as phase 1")
    items = sorted({(str(q), str(lo), str(hi)) for q, lo, hi in zip(votes["qid"], votes["lo"], votes["hi"],
                                                                    strict=True)})
    by_item: dict[tuple[str, str, str], tuple[list[float], list[float], float]] = {k: ([], [], 0.0) for k in items}
    last_e = votes["design_last_expected"] if "design_last_expected" in votes else pd.Series([None] * len(votes))
    for q, lo, hi, o, r, e, le in zip(votes["qid"], votes["lo"], votes["hi"], votes["outcome"], votes["design_round"],
                                      votes["design_expected"], last_e, strict=True):
        key = (str(q), str(lo), str(hi))
        p1, p2, e_i = by_item[key]
        if le is not None and not pd.isna(le):
            e_i = float(le)  # the pair's expected count in the last round, on every vote of the pair
        if adaptive and r == last:
            p2.append(float(o))
            if e is not None and not pd.isna(e):
                e_i = float(e)
        else:
            p1.append(float(o))
        by_item[key] = (p1, p2, e_i)
    planned = pd.to_numeric(last_votes["design_round_votes"], errors="coerce").max() if adaptive else float("nan")
    scale = len(last_votes) / float(planned) if adaptive and planned and not pd.isna(planned) else 1.0
    if adaptive and scale < 1:
        notes.append(f"{len(last_votes)} of the {int(planned)} votes of the last round are in; "
                     "the rest are taken as missing at random")
    vmap = {name: _verdict_map(v) for name, v in verdicts.items()}

    def estimate(keys: list[tuple[str, str, str]], outcome, zero: np.ndarray) -> allocation.Estimate:
        d1 = [outcome(k, np.array(by_item[k][0])) for k in keys]
        if adaptive:
            d2 = [outcome(k, np.array(by_item[k][1])) for k in keys]
            e = np.array([by_item[k][2] for k in keys]) * scale
            return allocation.adaptive_estimate(d1, d2, e, zero, level=level)
        return allocation.uniform_estimate(d1, zero, level=level)

    rows = {}
    for name, vm in vmap.items():
        keys = [k for k in items if k in vm and not math.isnan(vm[k])]
        if keys:
            rows[name] = estimate(keys, lambda k, h, vm=vm: (h == vm[k]).astype(float), np.zeros(len(keys), bool))
    differences = {}
    names = list(vmap)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            va, vb = vmap[a], vmap[b]
            keys = [k for k in items if k in va and k in vb and not (math.isnan(va[k]) or math.isnan(vb[k]))]
            if keys:
                zero = np.array([va[k] == vb[k] for k in keys])
                differences[(a, b)] = estimate(
                    keys, lambda k, h, va=va, vb=vb: allocation.vote_differences(h, va[k], vb[k]), zero)
    return {"rows": rows, "differences": differences, "notes": notes,
            "method": "design-based (HT difference)" if adaptive else "item means"}


def apply_design(result, votes: pd.DataFrame, verdicts: Mapping[str, pd.DataFrame], *,  # noqa: ANN001
                 level: float = 0.95) -> None:
    """Replace ``result``'s judge-row agreements and paired differences (values, intervals,
    p-values) by :func:`design_estimates` and record ``settings["estimator"] = "design-based"``.

    ``result`` is a :class:`metaeval.stats.agreement_study.AgreementResult`.
    """
    est = design_estimates(votes, verdicts, level=level)
    for row in result.rows:
        e = est["rows"].get(row["judge"])
        if e is not None:
            row["agreement"], row["ci"] = e.value, [e.ci[0], e.ci[1]]
    p = []
    for comp in result.comparisons:
        e = est["differences"].get((comp["a"], comp["b"]))
        sign = 1.0
        if e is None and (comp["b"], comp["a"]) in est["differences"]:
            e, sign = est["differences"][(comp["b"], comp["a"])], -1.0
        if e is None:
            p.append(float("nan"))
            continue
        lo, hi = sorted((sign * e.ci[0], sign * e.ci[1]))
        comp["difference"], comp["ci"] = sign * e.value, [lo, hi]
        pv = float(2 * _norm_sf(abs(e.value) / e.se)) if e.se > 0 else (1.0 if e.value == 0 else 0.0)
        comp["test"], comp["p_value"] = "normal (design-based)", pv
        p.append(pv)
    for comp, adj in zip(result.comparisons, holm(np.array(p)) if p else [], strict=True):
        comp["p_holm"] = None if math.isnan(adj) else float(adj)
    result.settings["estimator"] = ESTIMATOR_DESIGN
    result.settings["design_method"] = est["method"]
    if est["notes"]:
        result.settings["design_notes"] = est["notes"]
    log.info("design-based estimates for %d rows and %d differences", len(est["rows"]), len(est["differences"]))
