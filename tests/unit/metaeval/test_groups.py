"""WEval requirement-drop groups: figures by hand and against an independent
re-implementation of the rule published in WEval's cal_corr.py (written here from its description:
rank by (score, len(instruction_id_list)) descending; gold label = C - len(list), sorted descending,
gold position = C + 1 - label rank; scipy's kendalltau on the two rank lists)."""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
from scipy.stats import kendalltau

from metaeval.cli import main
from metaeval.groups import Group, Line, group_metrics, group_size_from_name, read_groups
from metaeval.io import InputFileError
from tests.fixtures.scripted_openai_server import ScriptedServer


def reference_cal_corr(items: list[dict], group_size: int) -> tuple[float, float, float]:
    taus, poss, exact = [], [], []
    for i in range(0, len(items), group_size):
        group = [dict(x) for x in items[i:i + group_size]]
        if len(group) < group_size:
            break
        ids = list(range(len(group)))
        by_score = sorted(ids, key=lambda j: (group[j]["score"], len(group[j]["instruction_id_list"])), reverse=True)
        score_rank = {j: r for r, j in enumerate(by_score, 1)}
        labels = {j: group_size - len(group[j]["instruction_id_list"]) for j in ids}
        by_label = sorted(ids, key=lambda j: labels[j], reverse=True)
        label_rank = {j: r for r, j in enumerate(by_label, 1)}
        ranking = [score_rank[j] for j in ids]
        gold = [group_size + 1 - label_rank[j] for j in ids]
        taus.append(kendalltau(ranking, gold)[0])
        poss.append(1 - (sum(abs(a - b) for a, b in zip(ranking, gold, strict=True)) / len(ranking)) / (len(ranking) - 1))
        exact.append(1 if ranking == gold else 0)
    return float(np.mean(taus)), float(np.mean(poss)), float(np.mean(exact))


def _lines(scores_and_kept):
    return [{"prompt": "p", "chosen": "c", "constraint": ["a", "b", "c"], "score": s,
             "instruction_id_list": [f"r{i + 1}" for i in range(k)]} for s, k in scores_and_kept]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_small_groups_by_hand():
    # kept 3,2,1 with scores 5,8,2: judge ranks (by score) 2,1,3; gold 1,2,3.
    # pairs: (1,2) discordant, (1,3) concordant, (2,3) concordant -> tau (3-... ) = (2-1)/3 = 1/3
    # position consistency: |2-1|+|1-2|+0 = 2 -> 1 - (2/3)/2 = 2/3; exact match 0.
    m = group_metrics(Group(0, [Line(1, 5, 3), Line(2, 8, 2), Line(3, 2, 1)]))
    assert m["kendall_tau"] == pytest.approx(1 / 3)
    assert m["kendall_tau_b"] == pytest.approx(1 / 3)
    assert m["position_consistency"] == pytest.approx(2 / 3)
    assert m["exact_match"] == 0.0
    # A judge giving one score to every response: cal_corr's rule ranks by kept count -> tau 1, exact 1;
    # tau-b with ties kept: the judge ordered nothing -> 0.
    m = group_metrics(Group(0, [Line(1, 7, 1), Line(2, 7, 3), Line(3, 7, 2), Line(4, 7, 0)]))
    assert (m["kendall_tau"], m["exact_match"], m["position_consistency"], m["kendall_tau_b"]) == (1.0, 1.0, 1.0, 0.0)


@pytest.mark.parametrize("c", [3, 4, 5])
def test_equals_the_reference_rule_on_random_files_with_ties(tmp_path, c):
    rng = random.Random(c)
    rows = []
    for _ in range(40):
        kept = list(range(c, 0, -1))
        rng.shuffle(kept)
        rows += _lines([(rng.choice([3, 5, 5, 7, 9]), k) for k in kept])  # many score ties
    path = _write(tmp_path / f"judge_{c}c.jsonl", rows)
    groups = read_groups(path)  # size from the file name
    vals = np.array([[group_metrics(g)[k] for k in ("kendall_tau", "position_consistency", "exact_match")]
                     for g in groups])
    assert tuple(vals.mean(axis=0)) == pytest.approx(reference_cal_corr(rows, c))


def test_size_from_name():
    assert group_size_from_name("qwen_3c.jsonl") == 3
    assert group_size_from_name("WEval-5c-scored.jsonl") == 5
    assert group_size_from_name("scores.jsonl") is None


@pytest.mark.parametrize("rows, field, line", [
    (_lines([(5, 3), (4, 2), (3, 1)])[:2] + [{"prompt": "p", "instruction_id_list": []}], "score", 3),
    (_lines([(5, 3), (4, 2)]) + [{"score": 3}], "instruction_id_list", 3),
    (_lines([(5, 3), (4, 2), (3, 1), (5, 3)]), "group", 4),
])
def test_bad_files_get_located_errors(tmp_path, rows, field, line):
    with pytest.raises(InputFileError) as err:
        read_groups(_write(tmp_path / "bad.jsonl", rows), group_size=3)
    assert err.value.field == field and err.value.line == line


def test_group_field_with_a_missing_response(tmp_path):
    rows = _lines([(5, 3), (4, 2), (3, 1), (5, 3), (4, 2), (3, 1)])
    for r, g in zip(rows, [0, 0, 1, 1, 1, 1], strict=True):
        r["group"] = g
    with pytest.raises(InputFileError) as err:
        read_groups(_write(tmp_path / "g.jsonl", rows), group_size=3)
    assert (err.value.line, err.value.field) == (3, "group")


def test_agreement_cli_json_and_paired(tmp_path, capsys):
    good = _write(tmp_path / "good_3c.jsonl", _lines([(9, 3), (5, 2), (1, 1)] * 6))
    flat = _write(tmp_path / "flat_3c.jsonl", _lines([(5, 3), (5, 2), (5, 1)] * 6))
    out = tmp_path / "a.json"
    assert main(["groups", "agreement", "--scored", str(flat), "--format", "json", "--bootstrap", "200",
                 "--output", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert set(rep) >= {"kendall_tau", "kendall_tau_b", "position_consistency", "exact_match", "groups", "settings"}
    assert rep["kendall_tau"] == {"value": 1.0, "ci": [1.0, 1.0]} and rep["kendall_tau_b"]["value"] == 0.0
    assert rep["groups"] == 6
    capsys.readouterr()
    assert main(["groups", "agreement", "--scored", f"good={good}", f"flat={flat}", "--format", "json",
                 "--bootstrap", "100", "--permutations", "2000"]) == 0
    rep = json.loads(capsys.readouterr().out)
    rows = {r["metric"]: r for r in rep["comparisons"]}
    assert rows["kendall_tau"]["difference"] == 0.0  # the tie rule hides the flat judge's failure
    assert rows["kendall_tau_b"]["difference"] == 1.0
    # 6 groups all +1: only 2 of 64 sign patterns reach |T| = 6 -> p ~ 1/32; Holm over 4 tests
    # (the other three have p = 1): 4 * 1/32 = 0.125
    assert rows["kendall_tau_b"]["p_holm"] == pytest.approx(0.125, abs=0.02)


def _script(messages):
    user = messages[-1]["content"] if messages[-1]["role"] == "user" else ""
    first = next(m["content"] for m in messages if m["role"] == "user")
    if first.startswith("Below is a writing instruction"):
        n = len(re.findall(r"^- ", first, re.M))
        return json.dumps({"instruction": f"INSTR without {n}"})
    if "Criterion: requirement" in first:
        kept = int(re.search(r"RESPONSE kept (\d)", first).group(1))
        return json.dumps({"score": 1 + 3 * kept, "reason": "counted"})
    m = re.match(r"INSTR without (\d)", user)
    return f"RESPONSE kept {3 - int(m.group(1)) if m else 3}"


def test_build_score_agreement_end_to_end(tmp_path, capsys):
    checklist = [{"name": f"Req {i}", "criteria_description": f"Rule {i}."} for i in range(5)]
    q = _write(tmp_path / "q.jsonl", [{"index": 7, "query": "Write a memo.", "checklist": checklist},
                                      {"index": 8, "query": "Write a note.", "checklist": checklist[:2]}])
    srv = ScriptedServer(_script).start()
    spec = f"openai-compatible:{srv.base_url}@m"
    try:
        assert main(["groups", "build", "--queries", str(q), "--requirements", "3", "--generator", f"gen={spec}",
                     "--output", str(tmp_path / "g_3c.jsonl"), "--no-progress"]) == 0
        built = [json.loads(x) for x in (tmp_path / "g_3c.jsonl").read_text().splitlines()]
        assert [(b["group"], b["dropped"], len(b["instruction_id_list"]), b["chosen"]) for b in built] == [
            (7, 0, 3, "RESPONSE kept 3"), (7, 1, 2, "RESPONSE kept 2"), (7, 2, 1, "RESPONSE kept 1")]
        assert built[1]["prompt"] == "INSTR without 1" and len(built[0]["constraint"]) == 3
        assert main(["groups", "score", "--groups", str(tmp_path / "g_3c.jsonl"), "--judge", f"j={spec}",
                     "--output", str(tmp_path / "s_3c.jsonl"), "--no-progress"]) == 0
    finally:
        srv.stop()
    scored = [json.loads(x) for x in (tmp_path / "s_3c.jsonl").read_text().splitlines()]
    assert [s["score"] for s in scored] == [10.0, 7.0, 4.0]  # 1 + 3 * kept, the same for each requirement
    capsys.readouterr()
    assert main(["groups", "agreement", "--scored", str(tmp_path / "s_3c.jsonl"), "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["kendall_tau"]["value"] == 1.0 and rep["kendall_tau_b"]["value"] == 1.0 and rep["groups"] == 1


def test_score_under_a_registered_method(tmp_path, capsys):
    from pathlib import Path

    fix = Path(__file__).resolve().parents[2] / "fixtures"
    rows = _lines([(0, 3), (0, 2), (0, 1)])
    for r, text in zip(rows, ("EXPECT_SCORE=9 a", "EXPECT_SCORE=6 b", "EXPECT_SCORE=2 c"), strict=True):
        r.pop("score")
        r["chosen"] = text
    src = _write(tmp_path / "u_3c.jsonl", rows)
    from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

    srv = FakeJudgeServer().start()
    try:
        assert main(["groups", "score", "--groups", str(src), "--judge", f"j=openai-compatible:{srv.base_url}@f",
                     "--method", "static-global", "--static-global", str(fix / "judge_static_global.json"),
                     "--output", str(tmp_path / "s_3c.jsonl"), "--no-progress"]) == 0
    finally:
        srv.shutdown()
        srv.server_close()
    scored = [json.loads(x) for x in (tmp_path / "s_3c.jsonl").read_text().splitlines()]
    # The fake judge returns the planted EXPECT_SCORE for every criterion: the mean is that score.
    assert [(s["score"], s["method"]) for s in scored] == [(9.0, "static-global"), (6.0, "static-global"),
                                                           (2.0, "static-global")]


def test_score_reads_a_weval_file_as_released(tmp_path, capsys):
    # WEval's released layout: chosen, constraint, instruction_id_list (no prompt, no group field).
    rows = [{"chosen": f"RESPONSE kept {k}", "constraint": ["a", "b", "c"],
             "instruction_id_list": [f"id{i}" for i in range(k)]} for k in (1, 3, 2)]
    src = _write(tmp_path / "eval_3c.jsonl", rows)
    srv = ScriptedServer(_script).start()
    try:
        assert main(["groups", "score", "--groups", str(src), "--judge", f"j=openai-compatible:{srv.base_url}@j",
                     "--output", str(tmp_path / "out_3c.jsonl"), "--no-progress"]) == 0
        assert len(srv.log) == 9  # 3 responses x 3 requirements
        assert main(["groups", "score", "--groups", str(src), "--judge", f"j=openai-compatible:{srv.base_url}@j",
                     "--method", "static-global", "--output", str(tmp_path / "m_3c.jsonl"), "--no-progress"]) == 2
    finally:
        srv.stop()
    assert "eval_3c.jsonl, line 1" in capsys.readouterr().err.replace("file ", "")
    assert not (tmp_path / "m_3c.jsonl").exists()
    scored = [json.loads(x) for x in (tmp_path / "out_3c.jsonl").read_text().splitlines()]
    assert [s["score"] for s in scored] == [4.0, 10.0, 7.0]
