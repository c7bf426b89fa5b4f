"""Correlation meta-evaluation: values checked against hand computation; constant groups counted."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from metaeval.cli import main
from metaeval.stats.correlation import correlation_table


def _frame(rows):
    return pd.DataFrame(rows, columns=["item_id", "system", "criterion", "score"])


def test_item_system_global_levels_by_hand():
    # items 1, 2, 3 (item 3 constant for the judge) x systems a, b, c
    human = _frame([(1, "a", "overall", 1), (1, "b", "overall", 2), (1, "c", "overall", 3),
                    (2, "a", "overall", 3), (2, "b", "overall", 1), (2, "c", "overall", 2),
                    (3, "a", "overall", 1), (3, "b", "overall", 2), (3, "c", "overall", 3)])
    judge = _frame([(1, "a", "overall", 1), (1, "b", "overall", 3), (1, "c", "overall", 2),
                    (2, "a", "overall", 3), (2, "b", "overall", 1), (2, "c", "overall", 2),
                    (3, "a", "overall", 5), (3, "b", "overall", 5), (3, "c", "overall", 5)])
    rows = {r["level"]: r for r in correlation_table(human, {"j": judge}, n_resamples=50)}
    item = rows["item"]
    # item 1: tau-b (1,2,3) vs (1,3,2) = 1/3, Spearman .5; item 2 identical -> 1; item 3 constant -> counted, left out
    assert item["n_constant"] == 1 and item["n"] == 2
    assert item["kendall"] == pytest.approx((1 / 3 + 1) / 2)
    assert item["spearman"] == pytest.approx(0.75)
    # system means: human a 5/3, b 5/3, c 8/3; judge a 3, b 3, c 3 -> constant across systems -> undefined
    assert rows["system"]["n_constant"] == 1
    # global over 9 points: human [1,2,3,3,1,2,1,2,3], judge [1,3,2,3,1,2,5,5,5]; pearson computed by hand:
    # mean h = 2, mean j = 3; sum dh*dj = (-1)(-2)+0+1(-1)+1*0+(-1)(-2)+0+(-1)(2)+0+1*2 = 3;
    # sum dh^2 = 6; sum dj^2 = 4+0+1+0+4+1+4+4+4 = 22 -> r = 3 / sqrt(132) = 0.26112
    assert rows["global"]["pearson"] == pytest.approx(3 / 132 ** 0.5)


def test_correlation_cli_json(tmp_path):
    ratings = tmp_path / "r.jsonl"
    lines = [{"item_id": i, "system": s, "rater": r, "criterion": "overall", "score": v}
             for i, s, v in [(1, "a", 1), (1, "b", 2), (2, "a", 3), (2, "b", 4)] for r in ("p", "q")]
    ratings.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    judge = tmp_path / "j.jsonl"
    judge.write_text("".join(json.dumps({"index": i, "model": s, "scores": {"overall": [{"score": v, "reason": ""}]}})
                             + "\n" for i, s, v in [(1, "a", 3), (1, "b", 4), (2, "a", 5), (2, "b", 9)]), encoding="utf-8")
    out = tmp_path / "o.json"
    assert main(["correlation", "--ratings", str(ratings), "--judge", f"j={judge}", "--level", "global",
                 "--format", "json", "--output", str(out), "--bootstrap", "20"]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    # global points human (1,2,3,4) vs judge (3,4,5,9): same ranking -> spearman and kendall 1
    assert (row["level"], row["n"], row["spearman"], row["kendall"]) == ("global", 4, 1.0, 1.0)
