"""Output layouts, verdicts from scores, replay, and the perturbation check."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from metaeval.io import read_scores, read_votes
from metaeval.judges.engine import EngineSettings, JudgeEngine, Outcome, ScoreTask
from metaeval.judges.output import mean_scores, verdicts_from_scores, write_score_outputs
from metaeval.judges.registry import create_backend
from metaeval.judges.robustness import paragraphs, perturb, score_change
from metaeval.types import BANDS, Criterion, ScoreRecord


def _crit(name: str) -> Criterion:
    return Criterion(name, "d", {b: b for b in BANDS})


def _outcomes() -> list[Outcome]:
    outs = []
    for model, scores in (("m1", [8, 6, 7]), ("m2", [5, 5, 9])):
        for name, s in zip(("A", "B", "C"), scores, strict=True):
            outs.append(Outcome(ScoreTask(1, model, _crit(name), "q", "r"), value=s, reason=f"{name} reason"))
    outs.append(Outcome(ScoreTask(2, "m1", _crit("A"), "q", "r"), error="invalid answer after 3 attempts: x",
                        raw=['{"score": 11}'] * 3))
    return outs


def test_score_files_in_both_layouts(tmp_path):
    summary = write_score_outputs(tmp_path, _outcomes(), judge="j1", method="dynamic")
    assert (summary["n_scores"], summary["n_failures"]) == (6, 1)
    long = read_scores(summary["long"])
    assert [(r.model, r.criterion, r.score) for r in long][:2] == [("m1", "A", 8), ("m1", "B", 6)]
    wb_lines = [json.loads(x) for x in Path(summary["writingbench"]["m2"]).read_text(encoding="utf-8").splitlines()]
    assert wb_lines == [{"index": 1, "scores": {"A": [{"score": 5, "reason": "A reason"}],
                                                "B": [{"score": 5, "reason": "B reason"}],
                                                "C": [{"score": 9, "reason": "C reason"}]}}]
    failure = json.loads(Path(summary["failures"]).read_text(encoding="utf-8"))
    assert failure["index"] == 2 and failure["raw"] == ['{"score": 11}'] * 3 and "score" not in failure


def test_verdicts_use_mean_scores_and_skip_unscored_pairs(tmp_path):
    recs = [ScoreRecord(1, "m1", "j", "x", "A", 8), ScoreRecord(1, "m1", "j", "x", "B", 6),   # mean 7
            ScoreRecord(1, "m2", "j", "x", "A", 5), ScoreRecord(1, "m2", "j", "x", "B", 9),   # mean 7
            ScoreRecord(2, "m1", "j", "x", "A", 9), ScoreRecord(2, "m2", "j", "x", "A", 3)]
    votes, missing = verdicts_from_scores([(1, "m1", "m2"), (2, "m1", "m2"), (3, "m1", "m2")],
                                          mean_scores(recs), judge="j/x")
    assert [v.winner for v in votes] == ["tie", "model_a"] and missing == [(3, "m1", "m2")]


def test_replay_backend_returns_recorded_scores(tmp_path):
    src = tmp_path / "wb.jsonl"
    src.write_text(json.dumps({"index": 1, "scores": {"A": [{"score": 4, "reason": "thin"}]}}) + "\n")
    backend = create_backend(f"replay:{src}")
    tasks = [ScoreTask(1, "anymodel", _crit("A"), "q", "r"), ScoreTask(1, "anymodel", _crit("Z"), "q", "r")]
    ok, missing = JudgeEngine(backend, settings=EngineSettings(max_attempts=1), progress=False).run(tasks)
    assert (ok.value, ok.reason) == (4, "thin")
    assert not missing.ok and "no score for index 1" in missing.error


TEXT = "\n\n".join(f"Paragraph {i} text." for i in range(6))


@pytest.mark.parametrize("seed", range(20))
def test_perturbations_change_paragraphs_as_described(seed):
    rng = random.Random(seed)
    orig = paragraphs(TEXT)
    dropped = paragraphs(perturb(TEXT, "drop", rng))
    assert 1 <= len(orig) - len(dropped) <= 3 and set(dropped) < set(orig)
    repeated = paragraphs(perturb(TEXT, "repeat", rng))
    extra = Counter(repeated) - Counter(orig)
    assert 1 <= sum(extra.values()) <= 3 and set(repeated) == set(orig)
    shuffled = paragraphs(perturb(TEXT, "shuffle", rng))
    assert sorted(shuffled) == sorted(orig) and shuffled != orig


def test_single_paragraph_cannot_be_perturbed():
    with pytest.raises(ValueError, match="two paragraphs"):
        perturb("one block of text", "drop", random.Random(0))


def test_score_change_interval_and_flag():
    original = {i: 7.0 for i in range(30)}
    dropped = {i: 7.0 - (i % 3) for i in range(30)}  # changes 0, -1, -2 -> mean -1
    row = score_change(original, dropped, kind="drop", n_resamples=2000, seed=1)
    assert row.mean_change == pytest.approx(-1.0) and row.n == 30
    assert row.ci[0] < -1.0 < row.ci[1] < 0 and not row.flagged
    same = score_change(original, dict(original), kind="shuffle")
    assert same.mean_change == 0 and same.flagged


def test_judge_cli_robustness_report(tmp_path, capsys):
    """Scores by replay: damaged responses are absent from the file, so every damaged score fails
    to replay -> no pairs -> the kind is flagged, never filled in."""
    from metaeval.cli import main

    q = tmp_path / "q.jsonl"
    crit = [{"name": f"C{i}", "criteria_description": "d", **{b: b for b in BANDS}} for i in range(5)]
    q.write_text(json.dumps({"index": 1, "query": "Write.", "checklist": crit}) + "\n")
    r = tmp_path / "m1.jsonl"
    r.write_text(json.dumps({"index": 1, "response": "a\n\nb\n\nc"}) + "\n")
    scores = tmp_path / "s.jsonl"
    scores.write_text(json.dumps({"index": 1, "scores": {f"C{i}": [{"score": 6, "reason": "ok"}] for i in range(5)}})
                      + "\n")
    rc = main(["judge", "--method", "dynamic", "--judge", f"replay:{scores}", "--queries", str(q),
               "--responses", f"m1={r}", "--output", str(tmp_path / "out"), "--perturb", "drop", "--no-progress"])
    assert rc == 0
    report = json.loads((tmp_path / "out" / "s__dynamic.robustness.json").read_text())
    assert report["rows"][0]["kind"] == "drop"
    assert report["rows"][0]["flagged"] is True


def test_verdict_file_is_readable_votes(tmp_path):
    from metaeval.judges.output import write_verdicts

    votes, _ = verdicts_from_scores([(7, "x", "y")], {("7", "x"): 3.0, ("7", "y"): 4.0}, judge="j/m")
    path = write_verdicts(tmp_path / "v.jsonl", votes)
    [v] = read_votes(path)
    assert (v.question_id, v.winner, v.judge) == (7, "model_b", "j/m")

