"""A judge's verdict per pair from its single verdicts: by hand, and equal to a plain pandas
groupby over the text keys (the reference; the code numbers the pairs instead)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metaeval.stats.agreement import votes_frame
from metaeval.stats.verdicts import combine_verdicts

PAIR = ["qid", "lo", "hi"]


def _groupby_reference(frame: pd.DataFrame) -> pd.DataFrame:
    """MT-Bench's rule written the obvious way: per pair (sorted), the common outcome or a tie,
    overall and per presentation order."""
    f = frame[PAIR].copy()
    f["o"] = frame["outcome"].astype(float)
    out = pd.DataFrame(index=pd.MultiIndex.from_frame(f[PAIR].drop_duplicates()).sort_values())
    for name, rows in (("verdict", np.ones(len(f), bool)), ("v_ab", (frame["first_lo"] == 1.0).to_numpy()),
                       ("v_ba", (frame["first_lo"] == 0.0).to_numpy())):
        g = f[rows].groupby(PAIR, sort=True)["o"]
        mn, mx = g.min(), g.max()
        out[name] = pd.Series(np.where(mn == mx, mn, 0.0), index=mn.index)
    return out.reset_index()


def test_both_orders_by_hand():
    # pair (1, a, b): shown ab -> a wins (+1), shown ba -> b wins (-1): the orders disagree -> tie;
    # pair (2, a, b): one verdict, no order -> +1, no single-order verdicts
    f = votes_frame([{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "order": "ab"},
                     {"question_id": 1, "model_a": "b", "model_b": "a", "winner": "model_a", "order": "ab"},
                     {"question_id": 2, "model_a": "a", "model_b": "b", "winner": "model_a"}])
    got = combine_verdicts(f)
    assert got[PAIR].values.tolist() == [["1", "a", "b"], ["2", "a", "b"]]
    assert got["verdict"].tolist() == [0.0, 1.0]
    assert got["v_ab"].tolist()[0] == 1.0 and got["v_ba"].tolist()[0] == -1.0
    assert np.isnan(got["v_ab"].iloc[1]) and np.isnan(got["v_ba"].iloc[1])


def test_equals_a_groupby_over_the_text_keys():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3000):
        row = {"question_id": int(rng.integers(0, 200)) if i % 2 else f"q{rng.integers(0, 50)}",
               "model_a": str(rng.choice(["x", "y", "Z", "é", "model 10", "model 9"])), "model_b": "w",
               "winner": str(rng.choice(["model_a", "model_b", "tie"]))}
        if i % 3:
            row["order"] = str(rng.choice(["ab", "ba"]))
        if i % 7 == 0:
            row["shown_left"] = "model_b"
        rows.append(row)
    f = votes_frame(rows)
    pd.testing.assert_frame_equal(combine_verdicts(f), _groupby_reference(f), check_dtype=False,
                                  check_index_type=False)
