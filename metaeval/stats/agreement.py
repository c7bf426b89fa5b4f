"""Agreement between pairwise judgments (FastChat's definitions, docs/formats.md).

Outcomes are coded on the canonical pair (models sorted by name): +1 = first model wins,
-1 = second model wins, 0 = tie (including "tie (bothbad)" etc.).

Split-vote policy for majorities (``split="tie"``, the default): the majority label of a pair is
its plurality label among {first wins, tie, second wins}; when two or more labels share the top
count (an exact split, e.g. 2 first-wins vs 2 second-wins, or 1 first-wins vs 1 tie) the majority
is a tie. With ``split="drop"`` such pairs get no majority (``nan``) and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from metaeval.stats._util import undefined
from metaeval.types import Vote

__all__ = [
    "votes_frame",
    "vote_agreement",
    "majority_outcome",
    "plurality",
    "human_human_counts",
    "human_human_agreement",
    "one_vs_others_majority",
]

FRAME_COLUMNS = ["qid", "lo", "hi", "outcome", "rater", "order", "first_lo", "criterion", "domain1", "domain2",
                 "lang", "stale"]


def votes_frame(votes: Sequence[Vote] | Sequence[Mapping] | pd.DataFrame) -> pd.DataFrame:
    """Canonical vote frame from Vote objects, FastChat dicts or a FastChat-column DataFrame.

    A frame that is already canonical (has ``lo`` and ``outcome``) is returned as it is.
    Columns: ``qid`` (str), ``lo``/``hi`` (models sorted by name), ``outcome`` (+1 lo wins,
    -1 hi wins, 0 tie), ``rater`` (the ``judge`` field), ``order``, ``first_lo`` (1.0 when the
    lower-named model was shown first, 0.0 when the other, nan unknown), ``criterion``,
    ``domain1``, ``domain2``, ``lang``, ``stale``.

    >>> f = votes_frame([{"question_id": 1, "model_a": "z", "model_b": "a", "winner": "model_a"}])
    >>> f.loc[0, "lo"], f.loc[0, "hi"], int(f.loc[0, "outcome"])
    ('a', 'z', -1)
    """
    if isinstance(votes, pd.DataFrame) and "outcome" in votes.columns and "lo" in votes.columns:
        return votes  # already canonical (e.g. from metaeval.io.read_votes_frame)
    if isinstance(votes, pd.DataFrame):
        df = votes
    else:
        rows = [v.to_dict() if isinstance(v, Vote) else dict(v) for v in votes]
        df = pd.DataFrame(rows)
    n = len(df)

    def col(name: str, default: object = None) -> pd.Series:
        if name in df.columns:
            return df[name]
        return pd.Series([default] * n, index=df.index, dtype=object)

    a = col("model_a").astype(str).to_numpy()
    b = col("model_b").astype(str).to_numpy()
    w = col("winner").astype(str).str.strip()
    o = np.where(w == "model_a", 1, np.where(w == "model_b", -1, 0)).astype(np.int8)
    bad = ~(w.isin(["model_a", "model_b"]) | w.str.startswith("tie")).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {i + 1}: field 'winner': unknown value {w.iloc[i]!r}")
    swap = a > b
    order = col("order")
    shown = col("shown_left")
    first_a = np.full(n, np.nan)
    first_a[(order == "ab").to_numpy()] = 1.0
    first_a[(order == "ba").to_numpy()] = 0.0
    first_a[(shown == "model_a").to_numpy()] = 1.0
    first_a[(shown == "model_b").to_numpy()] = 0.0
    out = pd.DataFrame({
        "qid": col("question_id").astype(str).to_numpy(),
        "lo": np.where(swap, b, a),
        "hi": np.where(swap, a, b),
        "outcome": np.where(swap, -o, o).astype(np.int8),
        "rater": col("judge", "").fillna("").astype(str).to_numpy(),
        "order": order.to_numpy(dtype=object),
        "first_lo": np.where(swap, 1.0 - first_a, first_a),
        "criterion": col("criterion").to_numpy(dtype=object),
        "domain1": col("domain1").to_numpy(dtype=object),
        "domain2": col("domain2").to_numpy(dtype=object),
        "lang": col("lang").to_numpy(dtype=object),
        "stale": col("stale", False).fillna(False).astype(bool).to_numpy(),
    })
    return out


def vote_agreement(human: Sequence[int], judge: Sequence[float], *, ties: bool = True) -> float:
    """Share of votes where the judge's outcome equals the human's.

    ``ties=False`` drops every comparison in which either side is a tie (FastChat's
    "without tie" agreement). ``nan`` entries in ``judge`` (no verdict) are left out.

    Example (by hand): human [1, 1, 0, -1], judge [1, -1, 0, -1]: 3 of 4 match -> 0.75;
    without ties the third comparison goes, 2 of 3 match -> 0.667.

    >>> vote_agreement([1, 1, 0, -1], [1, -1, 0, -1])
    0.75
    >>> round(vote_agreement([1, 1, 0, -1], [1, -1, 0, -1], ties=False), 3)
    0.667
    """
    h = np.asarray(human, dtype=float)
    j = np.asarray(judge, dtype=float)
    keep = ~np.isnan(h) & ~np.isnan(j)
    if not ties:
        keep &= (h != 0) & (j != 0)
    if not keep.any():
        return undefined("agreement is undefined: no comparable votes")
    return float(np.mean(h[keep] == j[keep]))


def plurality(counts: np.ndarray, *, split: str = "tie") -> np.ndarray:
    """Plurality label per row of a (rows x 3) count array over outcomes (-1, 0, +1).

    Exact splits at the top become 0 (tie) with ``split="tie"`` or ``nan`` with ``split="drop"``;
    rows with no votes are ``nan``.

    >>> plurality(np.array([[2, 0, 2], [0, 1, 3], [1, 1, 0]])).tolist()
    [0.0, 1.0, 0.0]
    """
    if split not in ("tie", "drop"):
        raise ValueError("split must be 'tie' or 'drop'")
    c = np.asarray(counts)
    top = c.max(axis=1)
    n_top = (c == top[:, None]).sum(axis=1)
    label = np.argmax(c, axis=1).astype(float) - 1.0
    label[n_top > 1] = 0.0 if split == "tie" else np.nan
    label[top == 0] = np.nan
    return label


def _outcome_counts(outcomes: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    idx = groups * 3 + (np.asarray(outcomes, dtype=np.int64) + 1)
    return np.bincount(idx, minlength=n_groups * 3).reshape(n_groups, 3)


def majority_outcome(outcomes: Sequence[int], groups: Sequence[int], *, split: str = "tie") -> np.ndarray:
    """Majority (plurality) outcome per group id 0..G-1; see the module's split-vote policy.

    Example: group 0 votes [1, 1, -1] -> 1; group 1 votes [1, -1] -> exact split -> 0 (tie).

    >>> majority_outcome([1, 1, -1, 1, -1], [0, 0, 0, 1, 1]).tolist()
    [1.0, 0.0]
    """
    g = np.asarray(groups, dtype=np.int64)
    return plurality(_outcome_counts(np.asarray(outcomes), g, int(g.max()) + 1 if g.size else 0), split=split)


def human_human_counts(outcomes: np.ndarray, groups: np.ndarray, *, n_groups: int | None = None) -> dict[str, np.ndarray]:
    """Per group: matching and total vote pairs, with ties and without (both votes non-tie).

    Each group holds the votes of different people on one pair. With counts c_-1, c_0, c_+1 and
    n = their sum: total = n(n-1)/2, matches = sum_k c_k(c_k-1)/2; without ties only the c_-1 and
    c_+1 votes take part.
    """
    g = np.asarray(groups, dtype=np.int64)
    k = (int(g.max()) + 1 if g.size else 0) if n_groups is None else n_groups
    c = _outcome_counts(np.asarray(outcomes), g, k).astype(float)
    pairs = c * (c - 1) / 2
    n = c.sum(axis=1)
    nt = c[:, 0] + c[:, 2]
    return {"match": pairs.sum(axis=1), "total": n * (n - 1) / 2,
            "match_nt": pairs[:, 0] + pairs[:, 2], "total_nt": nt * (nt - 1) / 2}


def human_human_agreement(outcomes: Sequence[int], groups: Sequence[int], *, ties: bool = True) -> float:
    """Agreement between every two votes (by different people) on the same pair, pooled over pairs.

    AlpacaEval's toy example: two items, four annotators, preferences [a, a, a, a] and [b, b, b, a]:
    item 1 has 6 of 6 agreeing annotator pairs, item 2 has 3 of 6 (the three b's); 9/12 = 0.75.

    >>> human_human_agreement([1, 1, 1, 1, -1, -1, -1, 1], [0, 0, 0, 0, 1, 1, 1, 1])
    0.75
    """
    c = human_human_counts(np.asarray(outcomes), np.asarray(groups))
    m, t = (c["match"], c["total"]) if ties else (c["match_nt"], c["total_nt"])
    if t.sum() == 0:
        return undefined("human-human agreement is undefined: no pair has two votes")
    return float(m.sum() / t.sum())


def one_vs_others_majority(outcomes: ArrayLike, groups: ArrayLike, *, ties: bool = True,
                           split: str = "tie") -> tuple[np.ndarray, np.ndarray]:
    """Each vote against the majority of the OTHER votes on its pair (the human ceiling).

    Returns per-vote ``(match, comparable)`` boolean arrays; agreement = match.sum() /
    comparable.sum(). Votes alone on their pair, or whose others split under ``split="drop"``, are
    not comparable; with ``ties=False`` comparisons where either side is a tie are not comparable.

    AlpacaEval's toy example ([a, a, a, a] and [b, b, b, a]): item 1 gives 4 of 4; in item 2 the
    three b-voters each face others {b, b, a} -> b (match) and the a-voter faces {b, b, b} -> b
    (no match): 7/8 = 0.875.

    >>> m, c = one_vs_others_majority([1, 1, 1, 1, -1, -1, -1, 1], [0, 0, 0, 0, 1, 1, 1, 1])
    >>> float(m.sum() / c.sum())
    0.875
    """
    o = np.asarray(outcomes, dtype=np.int64)
    g = np.asarray(groups, dtype=np.int64)
    counts = _outcome_counts(o, g, int(g.max()) + 1 if g.size else 0)
    # the others' majority depends only on the pair and the left-out vote's outcome: a (pairs x 3)
    # table, looked up per vote (no per-vote copy of the counts)
    others_label = np.empty(counts.shape)
    for j in range(3):
        others = counts.copy()
        others[:, j] = np.maximum(others[:, j] - 1, 0)  # (no vote on the pair has outcome j-1 where it was 0)
        others_label[:, j] = plurality(others, split=split)
    maj = others_label[g, o + 1]
    comparable = ~np.isnan(maj)
    if not ties:
        comparable &= (o != 0) & (maj != 0)
    match = comparable & (o == maj)
    return match, comparable

