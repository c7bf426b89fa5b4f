"""Agreement definitions on hand-built data; every expected value is derived by hand below."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from metaeval.cli import main
from metaeval.stats.agreement import (
    human_human_agreement,
    majority_outcome,
    one_vs_others_majority,
    vote_agreement,
    votes_frame,
)

FIX = Path(__file__).resolve().parents[3] / "fixtures"


def test_alpacaeval_toy_example():
    # AlpacaEval: 2 items, 4 annotators, preferences [1,1,1,1] and [2,2,2,1] (1 -> +1, 2 -> -1).
    outcomes = [1, 1, 1, 1, -1, -1, -1, 1]
    groups = [0, 0, 0, 0, 1, 1, 1, 1]
    assert human_human_agreement(outcomes, groups) == 0.75  # (6 + 3) / 12
    m, c = one_vs_others_majority(outcomes, groups)
    assert m.sum() / c.sum() == 0.875  # (4 + 3) / 8


def test_split_vote_policy():
    # pair 0: a, a, b -> a; pair 1: a, b -> exact split -> tie; pair 2: a, tie -> split -> tie;
    # pair 3: a, b, tie, tie -> tie is the plurality -> tie; pair 4: b, b, tie, a -> b
    o = [1, 1, -1, 1, -1, 1, 0, 1, -1, 0, 0, -1, -1, 0, 1]
    g = [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]
    assert majority_outcome(o, g).tolist() == [1, 0, 0, 0, -1]
    dropped = majority_outcome(o, g, split="drop")
    assert np.isnan(dropped[[1, 2]]).all() and dropped[[0, 3, 4]].tolist() == [1, 0, -1]


def test_pairs_match_whatever_the_listing_order():
    f = votes_frame([{"question_id": 7, "model_a": "zeta", "model_b": "alpha", "winner": "model_a"},
                     {"question_id": 7, "model_a": "alpha", "model_b": "zeta", "winner": "model_b"},
                     {"question_id": 7, "model_a": "alpha", "model_b": "zeta", "winner": "tie (inconsistent)"}])
    # zeta wins twice: both become "hi wins" (-1) on the canonical pair (alpha, zeta); the tie is 0
    assert f["outcome"].tolist() == [-1, -1, 0]
    assert set(zip(f["lo"], f["hi"], strict=True)) == {("alpha", "zeta")}


def test_vote_agreement_with_and_without_ties():
    # human [1, 0, -1, 1, 0], judge [1, 0, 1, 0, -1]: matches #1 #2 -> 2/5; no ties: #1 and #3 -> 1/2
    assert vote_agreement([1, 0, -1, 1, 0], [1, 0, 1, 0, -1]) == 0.4
    assert vote_agreement([1, 0, -1, 1, 0], [1, 0, 1, 0, -1], ties=False) == 0.5


def _run_fixture(tmp_path, *extra):
    out = tmp_path / "out.json"
    rc = main(["agreement", "--votes", str(FIX / "stats_votes_human.jsonl"),
               "--judge", f"j1={FIX / 'stats_votes_judge1.jsonl'}", "--judge", f"j2={FIX / 'stats_votes_judge2.jsonl'}",
               "--bootstrap", "200", "--seed", "5", "--format", "json", "--output", str(out), *extra])
    assert rc == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_fastchat_agreement_on_hand_built_file(tmp_path):
    # Canonical pairs (models sorted): q1 (a,b), q2 (b,c), q3 (a,c); +1 = first model wins.
    # Human votes:  q1 [+1, +1, 0]   q2 [-1 (c), +1 (b), 0 (bothbad)]   q3 [-1, -1]   (8 votes)
    # j1 verdicts:  q1 +1 (listed b,a, winner model_b = a), q2 tie, q3 +1
    # j2 both orders: q1 ab +1, ba +1 -> +1; q2 b-first +1, c-first (swapped listing) -1 -> tie; q3 -1, -1 -> -1
    res = _run_fixture(tmp_path)
    j1, j2 = res["rows"]
    # j1 with ties: q1 2/3, q2 1/3 (the tie), q3 0/2 -> 3/8; without ties: q1 2/2, q2 none, q3 0/2 -> 2/4
    assert (j1["n_votes"], j1["agreement"]) == (8, 0.375)
    assert (j1["n_votes_no_ties"], j1["agreement_no_ties"]) == (4, 0.5)
    # majority per pair: q1 +1, q2 split -> tie, q3 -1; j1 [+1, 0, +1]: p_o = 2/3, p_e = 1/3 -> kappa .5
    assert j1["kappa"] == pytest.approx(0.5)
    assert j1["position_consistency"] is None and j1["agreement_both_orders"] is None
    # j2 with ties: 2/3 + 1/3 + 2/2 -> 5/8; without ties 4/4; kappa 1 (equals the majority)
    assert (j2["agreement"], j2["agreement_no_ties"], j2["kappa"]) == (0.625, 1.0, 1.0)
    # consistent on q1 and q3 of 3 pairs; votes matched by both verdicts: q1 2 + q3 2 of 8
    assert j2["position_consistency"] == pytest.approx(2 / 3)
    assert j2["agreement_both_orders"] == 0.5
    # shown-first won in q1-ab, q2 both, q3-ba: 4 of 6 decisive verdicts
    assert j2["position_bias"] == pytest.approx(2 / 3)
    hm = res["human"]
    # human-human: q1 1 of 3 vote pairs, q2 0 of 3, q3 1 of 1 -> 2/7; no ties: q1 1/1, q2 0/1, q3 1/1 -> 2/3
    assert hm["agreement"] == pytest.approx(2 / 7)
    assert hm["agreement_no_ties"] == pytest.approx(2 / 3)
    # vs majority of the others: q1 0 of 3 (others split -> tie twice; tie-voter faces +1), q2 1 (the tie voter),
    # q3 2 -> 3/8
    assert hm["vs_majority_of_others"] == 0.375
    # alpha by hand from the coincidence matrix (n = 8, n_-1 = 3, n_0 = 2, n_+1 = 3):
    # nominal 1 - 7*5/42 = 1/6; ordinal (delta^2: 6.25, 6.25, 25) 1 - 7*50/600 = 5/12
    assert hm["alpha"]["nominal"] == pytest.approx(1 / 6)
    assert hm["alpha"]["ordinal"] == pytest.approx(5 / 12)
    # Fleiss with varying raters: P = (1/3, 0, 1), P_e = 22/64 -> (4/9 - 22/64) / (42/64) = 0.153439
    assert hm["fleiss_kappa"] == pytest.approx(0.153439, abs=1e-6)
    (cmp,) = res["comparisons"]
    # per-vote correctness differs only on q3 (j2 right twice): difference -2/8; McNemar b=0, c=2 -> p = .5
    assert cmp["difference"] == -0.25
    assert cmp["p_mcnemar"] == 0.5
    # sign flip: the only non-zero query difference is q3 (-2): every sign pattern reaches |T| -> p = 1
    assert cmp["p_signflip"] == 1.0 and cmp["p_holm"] == 1.0
    lo, hi = j1["ci"]
    assert 0.0 <= lo <= 0.375 <= hi <= 1.0


def test_split_drop_changes_majority_based_numbers(tmp_path):
    res = _run_fixture(tmp_path, "--split", "drop")
    # q2 has no majority now: j1 vs majority on q1 (+1,+1) and q3 (-1 vs +1): kappa over 2 pairs:
    # p_o = 1/2, p_e = (1/2*1) for +1 + (1/2*0) for -1 = 1/2 -> kappa 0
    assert res["rows"][0]["kappa"] == pytest.approx(0.0)


def test_score_file_verdicts_and_epsilon(tmp_path):
    # WritingBench long layout; mean scores: q1 a 7, b 6.5 -> diff .5; q2 b 5.5, c 5 -> diff .5; q3 a 4, c 9 -> -5.
    # Verdicts eps 0: [+1, +1, -1]; eps .5: [0, 0, -1] (a difference <= eps is a tie).
    rows = []
    for q, m, scores in [(1, "a", [7, 7]), (1, "b", [6, 7]), (2, "b", [5, 6]), (2, "c", [5, 5]),
                         (3, "a", [4, 4]), (3, "c", [9, 9])]:
        rows += [{"index": q, "model": m, "judge": "j", "method": "dyn", "criterion": f"c{k}", "score": s,
                  "reason": ""} for k, s in enumerate(scores)]
    f = tmp_path / "scores.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o.json"
    for eps, expected in (("0", 0.625), ("0.5", 0.5)):
        # eps 0: q1 +1 matches 2 of 3, q2 +1 matches h2 only, q3 2 of 2 -> 5/8;
        # eps .5: q1 tie matches h3 only, q2 tie matches h3 only, q3 2 -> 4/8
        assert main(["agreement", "--votes", str(FIX / "stats_votes_human.jsonl"), "--judge", f"dyn/j={f}",
                     "--tie-epsilon", eps, "--bootstrap", "50", "--format", "json", "--output", str(out)]) == 0
        row = json.loads(out.read_text())["rows"][0]
        assert (row["method"], row["judge_model"], row["agreement"]) == ("dyn", "j", expected)
