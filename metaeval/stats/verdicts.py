"""A judge's verdict per pair: from pairwise verdicts (one or both orders) or from criterion scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from metaeval.types import ScoreRecord

__all__ = ["combine_verdicts", "score_means", "verdicts_from_scores", "outcome_from_difference"]

PAIR = ["qid", "lo", "hi"]


def combine_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """One verdict per pair from a canonical verdict frame (see ``agreement.votes_frame``).

    Presentation orders are taken relative to the canonical pair (``first_lo``, from ``order`` or
    ``shown_left``), so a file may list the second presentation with model_a/model_b swapped.
    When a pair has verdicts in both orders, its verdict is the common one if they
    agree and a tie if they differ (MT-Bench's conservative rule). Verdicts without an order are
    combined the same way: all equal -> that outcome, otherwise a tie. Returns columns qid, lo, hi,
    ``verdict``, ``v_ab`` (lower-named model shown first), ``v_ba`` (nan when that order is missing).

    >>> from metaeval.stats.agreement import votes_frame
    >>> f = votes_frame([{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "order": "ab"},
    ...                  {"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_b", "order": "ba"}])
    >>> combine_verdicts(f)[["verdict", "v_ab", "v_ba"]].values.tolist()
    [[0.0, 1.0, -1.0]]
    """
    codes, uniques = [], []
    for col in PAIR:  # each column numbered in sorted order: the pairs then sort as (qid, lo, hi) does
        c, u = pd.factorize(frame[col], sort=True)
        codes.append(c.astype(np.int64))
        uniques.append(u)
    n_lo, n_hi = len(uniques[1]), len(uniques[2])
    known = (codes[0] >= 0) & (codes[1] >= 0) & (codes[2] >= 0)  # (a missing key is no pair, as in a groupby)
    key = ((codes[0] * n_lo + codes[1]) * n_hi + codes[2])[known]
    pair_keys, pair = np.unique(key, return_inverse=True)
    pair = pair.ravel()
    o = frame["outcome"].to_numpy(dtype=float)[known]
    first_lo = frame["first_lo"].to_numpy(dtype=float)[known]

    def combined(rows: np.ndarray) -> np.ndarray:
        """Per pair: the common outcome of ``rows`` when they agree, else a tie; nan without one."""
        g = pd.Series(o[rows]).groupby(pair[rows])
        mn, mx = g.min(), g.max()
        out = np.full(len(pair_keys), np.nan)
        out[mn.index.to_numpy()] = np.where(mn.to_numpy() == mx.to_numpy(), mn.to_numpy(), 0.0)
        return out

    every = np.ones(len(o), dtype=bool)
    q, rest = np.divmod(pair_keys, n_lo * n_hi)
    lo, hi = np.divmod(rest, n_hi)
    # presentation slot relative to the canonical pair: "ab" = lower-named model shown first
    return pd.DataFrame({"qid": uniques[0].take(q), "lo": uniques[1].take(lo), "hi": uniques[2].take(hi),
                         "verdict": combined(every), "v_ab": combined(first_lo == 1.0),
                         "v_ba": combined(first_lo == 0.0)})


def score_means(records: Iterable[ScoreRecord] | pd.DataFrame) -> pd.DataFrame:
    """Mean criterion score per (qid, model): columns qid (str), model, mean, n_scores.

    >>> score_means([ScoreRecord(1, "m", "j", "x", "c1", 6), ScoreRecord(1, "m", "j", "x", "c2", 9)])["mean"].tolist()
    [7.5]
    """
    if isinstance(records, pd.DataFrame):
        df = records
    else:
        df = pd.DataFrame([(r.index, r.model, r.score) for r in records], columns=["index", "model", "score"])
    df = df.assign(qid=df["index"].astype(str))
    g = df.groupby(["qid", "model"], sort=True)["score"]
    return pd.DataFrame({"mean": g.mean(), "n_scores": g.size()}).reset_index()


def outcome_from_difference(diff: Sequence[float] | np.ndarray, *, epsilon: float = 0.0) -> np.ndarray:
    """+1 when diff > epsilon, -1 when diff < -epsilon, 0 otherwise (nan stays nan).

    >>> outcome_from_difference([0.5, -0.2, 0.1], epsilon=0.1).tolist()
    [1.0, -1.0, 0.0]
    """
    d = np.asarray(diff, dtype=float)
    out = np.where(d > epsilon, 1.0, np.where(d < -epsilon, -1.0, 0.0))
    out[np.isnan(d)] = np.nan
    return out


def verdicts_from_scores(records: Iterable[ScoreRecord] | pd.DataFrame, pairs: pd.DataFrame, *,
                         epsilon: float = 0.0) -> pd.DataFrame:
    """Verdict per pair from the mean criterion score of each response.

    ``pairs`` has columns qid, lo, hi (e.g. the pairs the people voted on). The response with the
    higher mean wins; a difference of at most ``epsilon`` is a tie. Pairs where a response has no
    score get no verdict (they are dropped). Returns qid, lo, hi, verdict, v_ab, v_ba, diff.

    >>> recs = [ScoreRecord(1, "a", "j", "m", "c", 8), ScoreRecord(1, "b", "j", "m", "c", 7)]
    >>> verdicts_from_scores(recs, pd.DataFrame({"qid": ["1"], "lo": ["a"], "hi": ["b"]}))["verdict"].tolist()
    [1.0]
    """
    means = score_means(records).set_index(["qid", "model"])["mean"]
    p = pairs[PAIR].drop_duplicates().reset_index(drop=True)
    lo = means.reindex(pd.MultiIndex.from_arrays([p["qid"], p["lo"]])).to_numpy()
    hi = means.reindex(pd.MultiIndex.from_arrays([p["qid"], p["hi"]])).to_numpy()
    p["diff"] = lo - hi
    p["verdict"] = outcome_from_difference(p["diff"].to_numpy(), epsilon=epsilon)
    p["v_ab"] = np.nan
    p["v_ba"] = np.nan
    return p[~p["verdict"].isna()].reset_index(drop=True)
