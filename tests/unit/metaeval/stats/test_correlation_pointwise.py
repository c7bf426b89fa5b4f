"""Pointwise meta-evaluation beyond the judge-vs-people table: the people's ceiling (Cohen's kappa,
Pearson), paired comparisons of judges with Holm, and breakdowns by domain and language.

Expected values come from hand computation (in comments) or scipy, never from the code under test.
Simulated data come from a world unlike the estimators: a latent quality per (item, system), a
per-rater bias and noise, rounded and clipped to the 1-10 scale.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metaeval.cli import main
from metaeval.stats.correlation import (
    cohen_kappa,
    correlation_breakdown,
    paired_correlation_tests,
    rater_ceiling,
)


def _world(seed: int = 7, n_items: int = 40, n_systems: int = 5, raters=("r1", "r2", "r3")):
    """Latent quality q[item, system] ~ N(5.5, 2); rater r gives round(q + bias_r + N(0, 1)) in 1..10.
    Judges: "close" = q + N(0, 0.7), "far" = q + N(0, 3) (both rounded, clipped)."""
    rng = np.random.default_rng(seed)
    q = rng.normal(5.5, 2.0, size=(n_items, n_systems))
    bias = dict(zip(raters, rng.normal(0, 0.8, size=len(raters)), strict=True))
    langs = ["en" if i % 2 else "zh" for i in range(n_items)]
    human, judges = [], {"close": [], "far": []}
    for i, s in itertools.product(range(n_items), range(n_systems)):
        for r in raters:
            score = int(np.clip(round(q[i, s] + bias[r] + rng.normal(0, 1.0)), 1, 10))
            human.append({"item_id": i, "system": f"m{s}", "rater": r, "criterion": "overall", "score": score,
                          "lang": langs[i], "domain1": f"D{i % 3}"})
        for name, sd in (("close", 0.7), ("far", 3.0)):
            judges[name].append({"item_id": i, "system": f"m{s}", "criterion": "overall",
                                 "score": int(np.clip(round(q[i, s] + rng.normal(0, sd)), 1, 10))})
    return pd.DataFrame(human), {k: pd.DataFrame(v) for k, v in judges.items()}


def test_cohen_kappa_on_a_3x3_table_by_hand():
    # rows rater A, columns rater B, counts:
    #        B=1 B=2 B=3
    #  A=1    4   1   0
    #  A=2    1   3   1
    #  A=3    0   1   4
    # n = 15, p_o = 11/15, margins all 5/15 -> p_e = 1/3 -> kappa = (11/15 - 5/15) / (10/15) = 0.6
    # quadratic: observed disagreement sum w*p = 4 * 1 / 15; expected: each cell 1/9, sum of (i-j)^2 over
    # the 9 cells = 4*1 + 2*4 = 12 -> 12/9; kappa_w = 1 - (4/15) / (12/9) = 1 - 0.2 = 0.8
    a = [1] * 5 + [2] * 5 + [3] * 5
    b = [1, 1, 1, 1, 2, 1, 2, 2, 2, 3, 2, 3, 3, 3, 3]
    assert cohen_kappa(a, b) == pytest.approx(0.6)
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(0.8)
    # an asymmetric table: A=(1,1,2,2), B=(1,2,2,2): p_o = 3/4; A margins (1/2, 1/2), B (1/4, 3/4)
    # p_e = 1/8 + 3/8 = 1/2 -> kappa = (3/4 - 1/2) / (1/2) = 0.5 (two categories: quadratic is the same)
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5)
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2], weights="quadratic") == pytest.approx(0.5)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(cohen_kappa([3, 3], [3, 3]))


def test_ceiling_pearson_is_the_mean_of_scipy_over_rater_pairs_and_intervals_cover():
    human, _ = _world()
    c = rater_ceiling(human.drop(columns=["lang", "domain1"]), n_resamples=200, seed=1)
    wide = human.pivot_table(index=["item_id", "system"], columns="rater", values="score")
    expected_r = np.mean([stats.pearsonr(wide[a], wide[b])[0] for a, b in itertools.combinations(wide.columns, 2)])
    assert c["n_raters"] == 3 and c["n_rater_pairs"] == 3 and c["n_shared"] == 3 * 200
    assert c["pearson"] == pytest.approx(expected_r, abs=1e-12)
    for name in ("cohen_kappa", "cohen_kappa_quadratic", "pearson"):
        lo, hi = c["ci"][name]
        assert lo < c[name] < hi
    # biased raters with noise sd 1 agree exactly rarely (plain kappa low) but closely (quadratic high)
    assert c["cohen_kappa"] < c["cohen_kappa_quadratic"]


def test_paired_tests_find_the_better_judge_and_holm_matches_a_hand_adjustment():
    human, judges = _world()
    judges["close_copy"] = judges["close"].copy()
    rows = paired_correlation_tests(human, judges, levels=["global", "item"], n_resamples=300, seed=2)
    by = {(r["level"], r["a"], r["b"]): r for r in rows}
    g = by[("global", "close", "far")]
    # global values against scipy on the people's mean score per cell
    mean_h = human.groupby(["item_id", "system"])["score"].mean()
    for name, key in (("close", "a_value"), ("far", "b_value")):
        j = judges[name].set_index(["item_id", "system"])["score"].reindex(mean_h.index)
        assert g[key] == pytest.approx(stats.pearsonr(mean_h, j)[0], abs=1e-12)
    assert g["difference"] == pytest.approx(g["a_value"] - g["b_value"])
    assert g["difference"] > 0 and g["ci"][0] > 0 and g["p_value"] < 0.01
    same = by[("global", "close", "close_copy")]
    assert same["difference"] == 0 and same["p_value"] == 1.0
    # Holm within (criterion, level), recomputed here by its definition: sort ascending, multiply the
    # k-th smallest by (m - k), running maximum, cap at 1
    for lvl in ("global", "item"):
        fam = [r for r in rows if r["level"] == lvl]
        assert len(fam) == 3
        order = sorted(range(3), key=lambda k: fam[k]["p_value"])
        run, expected = 0.0, {}
        for k, idx in enumerate(order):
            run = max(run, min(1.0, fam[idx]["p_value"] * (3 - k)))
            expected[idx] = run
        assert [r["p_holm"] for r in fam] == pytest.approx([expected[k] for k in range(3)])


def test_breakdown_by_language_equals_scipy_on_each_subset():
    human, judges = _world()
    rows = correlation_breakdown(human, {"close": judges["close"]}, by="lang", levels=["global"], n_resamples=50)
    assert [r["group"] for r in rows] == ["en", "zh"]
    for r in rows:
        sub = human[human["lang"] == r["group"]]
        mean_h = sub.groupby(["item_id", "system"])["score"].mean()
        j = judges["close"].set_index(["item_id", "system"])["score"].reindex(mean_h.index)
        assert r["n"] == len(mean_h) == 20 * 5
        assert r["pearson"] == pytest.approx(stats.pearsonr(mean_h, j)[0], abs=1e-12)
        assert r["kendall"] == pytest.approx(stats.kendalltau(mean_h, j)[0], abs=1e-12)


def test_cli_reports_ceiling_comparisons_and_breakdowns(tmp_path):
    human, judges = _world(n_items=12, n_systems=4)
    ratings = tmp_path / "h.jsonl"
    ratings.write_text("".join(json.dumps(r) + "\n" for r in human.to_dict("records")), encoding="utf-8")
    args = ["correlation", "--ratings", str(ratings), "--bootstrap", "50", "--by", "lang", "--by", "domain1"]
    for name, frame in judges.items():
        p = tmp_path / f"{name}.jsonl"
        p.write_text("".join(json.dumps({**r, "rater": name}) + "\n" for r in frame.to_dict("records")),
                     encoding="utf-8")
        args += ["--judge", f"{name}={p}"]
    out = tmp_path / "o.json"
    assert main([*args, "--format", "json", "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {r["level"] for r in data["comparisons"]} == {"item", "system", "global"}
    assert all(r["a"] == "close" and r["b"] == "far" for r in data["comparisons"])
    assert {(r["by"], r["group"]) for r in data["breakdowns"]} == {("lang", "en"), ("lang", "zh"),
                                                                  ("domain1", "D0"), ("domain1", "D1"),
                                                                  ("domain1", "D2")}
    assert set(data["human"]["ci"]) == {"cohen_kappa", "cohen_kappa_quadratic", "pearson"}
    md = tmp_path / "o.md"
    assert main([*args, "--output", str(md)]) == 0
    text = md.read_text()
    assert "### Paired comparisons of judges" in text and "### Correlation by group of items" in text
    assert "quadratic-weighted kappa" in text


def test_cli_names_the_line_of_a_bad_language_field(tmp_path, capsys):
    ratings = tmp_path / "h.jsonl"
    rows = [{"item_id": 1, "system": s, "rater": "p", "score": v, "lang": "en"} for s, v in (("a", 1), ("b", 2))]
    rows.append({"item_id": 2, "system": "a", "rater": "p", "score": 3, "lang": 5})
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["correlation", "--ratings", str(ratings), "--judge", f"j={ratings}", "--by", "lang",
                 "--bootstrap", "10"]) != 0
    err = capsys.readouterr().err
    assert "h.jsonl, line 3, field 'lang': expected str" in err
