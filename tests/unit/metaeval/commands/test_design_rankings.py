"""metaeval rankings and annotators on votes that carry an extension's design: the people's
Bradley–Terry fit uses the design weights (hand-derived below), the annotators' latent-class fit
is design-weighted, and both commands say which estimator they used."""

from __future__ import annotations

import json
import math

import pytest

from metaeval.cli import main

# q1: two round-0 votes (a, b) and one adaptive vote (a) with e = 2; q2: two round-0 votes (a, a),
# e = 0.5 recorded but no adaptive vote drawn.
VOTES = [(1, "model_a", "p1", 0), (1, "model_b", "p2", 0), (1, "model_a", "p3", 1),
         (2, "model_a", "p1", 0), (2, "model_a", "p2", 0)]
E = {1: 2.0, 2: 0.5}


def _write(tmp_path, *, design: bool):
    path = tmp_path / "votes.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for q, winner, person, rnd in VOTES:
            row = {"question_id": q, "model_a": "a", "model_b": "b", "winner": winner, "judge": person}
            if design:
                row |= {"design_round": rnd, "design_strategy": "adaptive" if rnd else "fixed",
                        "design_expected": E[q] if rnd else None, "design_round_votes": 1 if rnd else None,
                        "design_last_expected": E[q]}
            fh.write(json.dumps(row) + "\n")
    return path


def _rankings(tmp_path, *, design: bool) -> dict:
    out = tmp_path / "r.json"
    assert main(["rankings", "--votes", str(_write(tmp_path, design=design)), "--bootstrap", "20",
                 "--format", "json", "--output", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_people_ranking_uses_the_hand_derived_design_weights(tmp_path):
    res = _rankings(tmp_path, design=True)
    assert res["settings"]["estimator"] == "design-based"
    # By hand (c = 1): q1 earlier votes weigh (1 - m/e)/k = (1 - 1/2)/2 = 1/4, its adaptive vote 1/e = 1/2;
    # q2 earlier votes (1 - 0/0.5)/2 = 1/2. Wins of a: 1/4 + 1/2 + 1/2 + 1/2 = 7/4; of b: 1/4 (scaling
    # cancels). Two models: s_a - s_b = ln(7/4 / 1/4) = ln 7, mean 0 -> s_a = ln(7)/2.
    assert res["rankings"]["human"]["models"]["a"]["strength"] == pytest.approx(math.log(7) / 2, rel=1e-4)


def test_without_design_the_ranking_pools_every_vote(tmp_path):
    res = _rankings(tmp_path, design=False)
    assert res["settings"]["estimator"] == "pooled"
    # 4 wins of a, 1 of b: s_a = ln(4)/2
    assert res["rankings"]["human"]["models"]["a"]["strength"] == pytest.approx(math.log(4) / 2, rel=1e-4)


def test_rankings_caption_names_the_estimator(tmp_path):
    out = tmp_path / "r.md"
    assert main(["rankings", "--votes", str(_write(tmp_path, design=True)), "--bootstrap", "20",
                 "--output", str(out)]) == 0
    assert "Estimator: design-based" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("design", [True, False])
def test_annotators_use_and_name_the_design_based_fit(tmp_path, design):
    out = tmp_path / "a.json"
    assert main(["annotators", "--votes", str(_write(tmp_path, design=design)), "--bootstrap", "20",
                 "--format", "json", "--output", str(out)]) == 0
    settings = json.loads(out.read_text(encoding="utf-8"))["settings"]
    assert settings["estimator"] == ("design-based" if design else "pooled")
    assert "design_note" not in settings  # the old "this fit ignores the design" note is gone
    assert ("design_weights" in settings) is design


@pytest.mark.parametrize("fmt", ["markdown", "html", "csv"])
def test_annotators_reports_name_the_estimator(tmp_path, fmt):
    out = tmp_path / f"a.{fmt}"
    assert main(["annotators", "--votes", str(_write(tmp_path, design=True)), "--bootstrap", "20",
                 "--format", fmt, "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "csv":
        header, *rows = text.splitlines()
        assert header.split(",")[-1] == "estimator" and rows
        assert all(r.split(",")[-1] == "design-based" for r in rows)
    else:
        assert "Estimator: design-based" in text
