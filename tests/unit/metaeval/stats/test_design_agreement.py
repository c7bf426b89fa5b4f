"""metaeval agreement on votes that carry an adaptive design: the design-based estimator for rows
and paired differences, said in JSON and in the caption; votes without a design stay pooled."""

from __future__ import annotations

import json

import pytest

from metaeval.cli import main

# Two pairs (q1, q2) of models a, b; two judges. j1 says a on both; j2 says b on q1, a on q2
# (q2 is a structural zero for the difference j1 - j2).
JUDGES = {"m/j1": {1: "model_a", 2: "model_a"}, "m/j2": {1: "model_b", 2: "model_a"}}
# Round 0 (fixed): two votes per pair. Round 1 (adaptive, 2 votes planned): recorded expected
# counts e = 1.5 on q1 and 0.5 on q2; the draw put both votes on q1.
VOTES = [(1, "model_a", "p1", 0, None), (1, "model_b", "p2", 0, None),
         (2, "model_a", "p1", 0, None), (2, "model_a", "p2", 0, None),
         (1, "model_a", "p3", 1, 1.5), (1, "model_a", "p4", 1, 1.5)]


def _write(tmp_path, *, design: bool):
    votes = tmp_path / "votes.jsonl"
    with votes.open("w", encoding="utf-8") as fh:
        for q, winner, person, rnd, e in VOTES:
            row = {"question_id": q, "model_a": "a", "model_b": "b", "winner": winner, "judge": person}
            if design:
                row |= {"design_round": rnd, "design_strategy": "adaptive" if rnd else "fixed",
                        "design_expected": e, "design_round_votes": 2 if rnd else None,
                        "design_last_expected": {1: 1.5, 2: 0.5}[q]}
            fh.write(json.dumps(row) + "\n")
    specs = []
    for k, (name, verdicts) in enumerate(JUDGES.items()):
        path = tmp_path / f"judge{k}.jsonl"
        path.write_text("".join(json.dumps({"question_id": q, "model_a": "a", "model_b": "b", "winner": w,
                                            "judge": name}) + "\n" for q, w in verdicts.items()), encoding="utf-8")
        specs += ["--judge", f"{name}={path}"]
    return votes, specs


def _run(tmp_path, fmt, *, design=True):
    votes, specs = _write(tmp_path, design=design)
    out = tmp_path / f"out.{fmt}"
    assert main(["agreement", "--votes", str(votes), *specs, "--bootstrap", "50", "--seed", "1",
                 "--format", fmt, "--output", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_rows_and_difference_are_the_hand_weighted_design_estimates(tmp_path):
    res = json.loads(_run(tmp_path, "json"))
    assert res["settings"]["estimator"] == "design-based"
    rows = {r["judge"]: r for r in res["rows"]}
    # By hand, row j1 (d = [vote == a]): q1 phase 1 d = [1, 0] (mean .5), phase 2 [1, 1] -> S = 1,
    # e = 1.5; q2 phase 1 [1, 1] (mean 1), no phase-2 vote, e = .5. theta1 = .75,
    # R = (1/1.5 + 0) / 2 = 1/3. Shrunk variances (2 pseudo-votes, pooled .5/2 = .25): q1 (.5+.5)/3
    # = 1/3, q2 (0+.5)/3 = 1/6; V1 = (1/6 + 1/12)/4 = 1/16; W = (1/3*1.5/1.5 + 1/6*1.5/.5)/4 = 5/24;
    # c = (1/16)/(1/16 + 5/24) = 3/13; estimate .75 + (3/13)(1/3) = .75 + 1/13. (Pooled: 5/6.)
    assert rows["m/j1"]["agreement"] == pytest.approx(0.75 + 1 / 13)
    # Difference j1 - j2: q1 d = [h==a] - [h==b]: phase 1 [1, -1] (mean 0), phase 2 [1, 1] -> S = 2;
    # q2 structural zero. R = (2/1.5)/2 = 2/3; s^2(q1) = (2 + 2*2)/3 = 2, V1 = (2/2)/4 = .25,
    # W = (2*1.5/1.5)/4 = .5, c = 1/3 -> 2/9. (Pooled: 2/6.)
    (comp,) = res["comparisons"]
    assert (comp["a"], comp["b"]) == ("m/j1", "m/j2")
    assert comp["difference"] == pytest.approx(2 / 9)
    assert comp["ci"][0] < 2 / 9 < comp["ci"][1]


def test_without_design_fields_the_votes_are_pooled(tmp_path):
    res = json.loads(_run(tmp_path, "json", design=False))
    assert res["settings"]["estimator"] == "pooled"
    rows = {r["judge"]: r for r in res["rows"]}
    assert rows["m/j1"]["agreement"] == pytest.approx(5 / 6)  # 5 of the 6 votes say a
    assert res["comparisons"][0]["difference"] == pytest.approx(2 / 6)


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_caption_names_the_estimator(tmp_path, fmt):
    assert "Estimator: design-based" in _run(tmp_path, fmt)
    assert "Estimator: pooled" in _run(tmp_path, fmt, design=False)
