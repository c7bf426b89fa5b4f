"""The demo's judged study shows something real: both sides win, the judges differ, one
annotator is noisy, and the criteria methods disagree on some pairs. Everything here is recomputed in
plain Python from the exported votes and the demo score files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import combinations

import pytest

from annotate.commands.cli import main as annotate_main
from annotate.services.judges.demo_judging import DEMO_AUDIT_STUDY, DEMO_RUNS, SCORES_DIR

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture(scope="module")
def overall_votes(tmp_path_factory) -> list[dict]:
    folder = tmp_path_factory.mktemp("demo")
    db = f"sqlite:///{folder / 'demo.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    try:
        assert annotate_main(["--db", db, "demo", "--no-serve"]) == 0
        assert annotate_main(["--db", db, "export", "votes", "--study", DEMO_AUDIT_STUDY,
                              str(folder / "v.jsonl")]) == 0
    finally:
        mp.undo()
    rows = [json.loads(x) for x in (folder / "v.jsonl").read_text().splitlines()]
    return [r for r in rows if "criterion" not in r]


def _verdicts(pairs: list[tuple[int, str, str]]) -> dict[str, tuple[str, ...]]:
    """Per demo run: the winner of each pair by mean criterion score (WritingBench's rule)."""
    out = {}
    for judge, method in DEMO_RUNS:
        scores: dict[tuple[int, str], list[int]] = defaultdict(list)
        for line in (SCORES_DIR / f"{method}__{judge}.jsonl").read_text().splitlines():
            r = json.loads(line)
            scores[(r["index"], r["model"])].append(r["score"])
        mean = {k: sum(v) / len(v) for k, v in scores.items()}
        out[f"{method}/{judge}"] = tuple(
            "a" if mean[(q, a)] > mean[(q, b)] else "b" if mean[(q, a)] < mean[(q, b)] else "tie" for q, a, b in pairs)
    return out


def test_people_pick_both_sides(overall_votes):
    winners = Counter(v["winner"] for v in overall_votes)
    assert winners["model_a"] >= 5 and winners["model_b"] >= 5, winners


def test_judges_differ_and_pick_both_sides(overall_votes):
    pairs = sorted({(v["question_id"], v["model_a"], v["model_b"]) for v in overall_votes})
    verdicts = _verdicts(pairs)
    for name, row in verdicts.items():
        assert {"a", "b"} <= set(row), (name, row)
    for (n1, v1), (n2, v2) in combinations(verdicts.items(), 2):
        assert v1 != v2, f"{n1} and {n2} give the same verdict on every pair"
    # the two dynamic judges disagree on at least one pair, and so do the methods of demo-judge
    assert verdicts["dynamic/demo-judge"] != verdicts["dynamic/demo-critic"]
    assert len({verdicts[f"{m}/demo-judge"] for m in ("static-global", "static-domain", "dynamic")}) == 3


def test_one_annotator_is_noisy(overall_votes):
    by_pair: dict[tuple, dict[str, str]] = defaultdict(dict)
    for v in overall_votes:
        by_pair[(v["question_id"], v["model_a"], v["model_b"])][v["judge"]] = v["winner"]
    people = sorted({v["judge"] for v in overall_votes})
    assert len(people) == 3
    # share of a person's votes equal to another person's vote on the same pair
    agree = {}
    for p in people:
        same = [votes[p] == votes[o] for votes in by_pair.values() for o in votes if o != p and p in votes]
        agree[p] = sum(same) / len(same)
    noisy = min(agree, key=agree.get)
    honest = [p for p in people if p != noisy]
    # the two honest people agree with each other more often than with the noisy one
    pair_same = [votes[honest[0]] == votes[honest[1]] for votes in by_pair.values()]
    assert sum(pair_same) / len(pair_same) > agree[noisy] + 0.15, (agree, pair_same)
