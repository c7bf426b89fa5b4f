"""Tree-of-Writing against a scripted loopback server; every aggregate by hand."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from metaeval.cli import main
from metaeval.criteria.tow import formatting_rule, parse_weights
from metaeval.judges.parsing import ParseError
from metaeval.judges.tree_run import ablate, read_tree_long, weight_stability
from tests.fixtures.scripted_openai_server import ScriptedServer

Q1 = {"index": 1, "domain1": "Politics & Law", "domain2": "Reports",
      "query": "Write a short report on river pollution with section headings."}
Q2 = {"index": 2, "domain1": "Literature & Arts", "domain2": "Poetry", "query": "Write a poem about rain."}
RESPONSES = [
    {"index": 1, "model": "m1", "response": "# Report M1\n## Causes\nFactories.\n## Effects\nFish die."},
    {"index": 1, "model": "m2", "response": "# Report M2\n### Causes\nFactories."},
    {"index": 2, "model": "m1", "response": "Rain on the roof M1\nsoft and slow"},
    {"index": 2, "model": "m2", "response": "Rain M2"},
]
LEAF = {"m1": {"content/coherence": 8, "content/logic": 6, "content/richness": 7, "content/opening-ending": 9,
               "impression": 7, "structure": 10, "paragraphing": 5},
        "m2": {"content/coherence": 5, "content/logic": 5, "content/richness": 5, "content/opening-ending": 5,
               "impression": 4, "structure": 5, "paragraphing": 0}}
W1 = {"content": {"coherence": 0.4, "logic": 0.3, "richness": 0.2, "opening-ending": 0.1},
      "format": {"structure": 0.5, "paragraphing": 0.3, "formatting": 0.2}}
W2 = {"content": {"coherence": 0.25, "logic": 0.25, "richness": 0.25, "opening-ending": 0.25}}
W2_TRIAL2 = {"content": {"coherence": 0.4, "logic": 0.1, "richness": 0.25, "opening-ending": 0.25}}


def script(messages, *, bad_sum_for_q1=False):
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "plan how a writing task" in system:
        if "river pollution" in user:
            if bad_sum_for_q1:
                return json.dumps({**W1, "content": {**W1["content"], "logic": 0.2}})  # sums to 0.9
            if len(messages) == 2:  # first answer: a weight outside (-1, 1), refused
                return json.dumps({**W1, "content": {**W1["content"], "coherence": 1.2}})
            return json.dumps(W1)
        return json.dumps(W2_TRIAL2 if "planning run 2" in user else W2)
    model = "m1" if "M1" in user else "m2"
    aspect = re.search(r"Aspect: (\w+)", user)
    if aspect:
        return json.dumps({"score": LEAF[model][aspect.group(1)], "reason": "seen"})
    crit = re.search(r"Criterion: (\S+)", user).group(1)
    return json.dumps({"score": LEAF[model][crit], "reason": "seen"})


@pytest.fixture()
def files(tmp_path):
    q = tmp_path / "queries.jsonl"
    q.write_text("".join(json.dumps(x) + "\n" for x in (Q1, Q2)))
    r = tmp_path / "responses.jsonl"
    r.write_text("".join(json.dumps(x) + "\n" for x in RESPONSES))
    return q, r


def _run(srv, q, r, out, *extra):
    return main(["judge", "--method", "tow", "--judge", f"j=openai-compatible:{srv.base_url}@j", "--queries", str(q),
                 "--responses", str(r), "--output", str(out), "--no-progress", *extra])


def test_tow_root_leaves_weights_and_layouts(files, tmp_path, capsys):
    srv = ScriptedServer(script).start()
    try:
        assert _run(srv, *files, tmp_path / "out") == 0
    finally:
        srv.stop()
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_refused_weights"] == 1 and summary["n_failures"] == 1 and summary["n_roots"] == 4
    fail = json.loads(Path(summary["failures"]).read_text())
    assert (fail["index"], fail["criterion"], fail["recovered"]) == (1, "negotiation", True)
    assert json.loads(fail["raw"][0])["content"]["coherence"] == 1.2
    # By hand (docs/formats.md): content = sum w*leaf, format likewise, root = sum_j n_j/n * node.
    # Q1 m1: content .4*8+.3*6+.2*7+.1*9 = 7.3; format .5*10+.3*5+.2*10 (rule: h1>h2>h2 nests) = 8.5;
    #        root = 4/8*7.3 + 3/8*8.5 + 1/8*7 = 7.7125
    # Q1 m2: content 5; format .5*5+.3*0+.2*5 (rule: h1 then h3 skips -> 5) = 3.5; root = 2.5+1.3125+0.5 = 4.3125
    # Q2 (Poetry: no format node, n = 5) m1: content 7.5 -> 4/5*7.5 + 1/5*7 = 7.4; m2: 4/5*5 + 1/5*4 = 4.8
    wb = {}
    for p in (tmp_path / "out" / "wb").iterdir():
        for line in p.read_text().splitlines():
            obj = json.loads(line)
            wb[(obj["index"], obj["model"])] = obj["scores"]["tow"][0]["score"]
    assert wb == pytest.approx({(1, "m1"): 7.7125, (1, "m2"): 4.3125, (2, "m1"): 7.4, (2, "m2"): 4.8})
    rows = [json.loads(x) for x in (tmp_path / "out" / "j__tow.long.jsonl").read_text().splitlines()]
    q1m1 = {r["criterion"]: (r["score"], r["weight"]) for r in rows if r["index"] == 1 and r["model"] == "m1"}
    assert q1m1 == {"content/coherence": (8, 0.4), "content/logic": (6, 0.3), "content/richness": (7, 0.2),
                    "content/opening-ending": (9, 0.1), "format/structure": (10, 0.5),
                    "format/paragraphing": (5, 0.3), "format/formatting": (10, 0.2), "impression": (7, 1.0)}
    q2 = {r["criterion"] for r in rows if r["index"] == 2 and r["model"] == "m2"}
    assert q2 == {"content/coherence", "content/logic", "content/richness", "content/opening-ending", "impression"}

    # Node ablation from the stored leaves (no calls): Q1 m1 without format: 4/5*7.3 + 1/5*7 = 7.24;
    # format only: 8.5; impression only: 7; Q2 m1 format only: no format leaves -> no score.
    leaves = read_tree_long(tmp_path / "out" / "j__tow.long.jsonl")
    assert ablate(leaves, ("content", "impression"))[("1", "m1")] == pytest.approx(7.24)
    assert ablate(leaves, ("format",))[("1", "m1")] == pytest.approx(8.5)
    assert ("2", "m1") not in ablate(leaves, ("format",))
    assert ablate(leaves, ("content", "format", "impression"))[("1", "m2")] == pytest.approx(4.3125)


def test_ablate_command_writes_correlation_input(files, tmp_path, capsys):
    srv = ScriptedServer(script).start()
    try:
        assert _run(srv, *files, tmp_path / "out") == 0
    finally:
        srv.stop()
    capsys.readouterr()
    assert main(["tow", "ablate", "--scores", str(tmp_path / "out" / "j__tow.long.jsonl"),
                 "--output", str(tmp_path / "abl")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "abl" / "tow-no-impression.scores.jsonl").read_text().splitlines()]
    # Q1 m1 without impression: 4/7*7.3 + 3/7*8.5 = 7.814286
    got = {(r["item_id"], r["system"]): r["score"] for r in rows}
    assert got[(1, "m1")] == pytest.approx(4 / 7 * 7.3 + 3 / 7 * 8.5, abs=1e-6)


def test_negotiation_always_refused_fails_that_query_only(files, tmp_path, capsys):
    srv = ScriptedServer(lambda m: script(m, bad_sum_for_q1=True)).start()
    try:
        assert _run(srv, *files, tmp_path / "out", "--max-invalid", "2") == 0
    finally:
        srv.stop()
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_refused_weights"] == 2  # both answers refused (sum 0.9)
    fails = [json.loads(x) for x in Path(summary["failures"]).read_text().splitlines()]
    assert [(f["index"], f["criterion"]) for f in fails] == [(1, "negotiation")]
    assert "sum to 0.9" in fails[0]["error"]
    assert summary["n_roots"] == 2  # only Q2's two responses have a root; Q1 is never defaulted


def test_tow_trials_report_weight_stability(files, tmp_path, capsys):
    q = tmp_path / "q2.jsonl"
    q.write_text(json.dumps(Q2) + "\n")
    r = tmp_path / "r2.jsonl"
    r.write_text("".join(json.dumps(x) + "\n" for x in RESPONSES if x["index"] == 2))
    srv = ScriptedServer(script).start()
    try:
        assert _run(srv, q, r, tmp_path / "out", "--tow-trials", "3") == 0
    finally:
        srv.stop()
    summary = json.loads(capsys.readouterr().out)
    stab = summary["weight_stability"]
    # By hand: trials (.25,.25,.25,.25), (.4,.1,.25,.25), (.25,.25,.25,.25).
    # delta: coherence |.4-.25| = .15, logic .15, others 0 -> mean .075.
    # sigma: coherence mean .3, sqrt(.05^2+.1^2+.05^2) = sqrt(.015); logic the same; others 0 -> sqrt(.015)/2.
    assert stab["trials"] == 3 and stab["queries"] == 1
    assert stab["delta"] == pytest.approx(0.075)
    assert stab["sigma"] == pytest.approx(math.sqrt(0.015) / 2)


def test_weight_stability_small_case_and_bad_weights():
    # a: 0.6, 0.4, 0.5 -> delta .2+.1 = .3, sigma sqrt(.01+.01+0) ; b mirrors a.
    d, s = weight_stability({"1": [{"a": 0.6, "b": 0.4}, {"a": 0.4, "b": 0.6}, {"a": 0.5, "b": 0.5}]})
    assert d == pytest.approx(0.3) and s == pytest.approx(math.sqrt(0.02))
    with pytest.raises(ParseError, match="outside"):
        parse_weights(json.dumps({**W1, "format": {**W1["format"], "structure": -1.0, "paragraphing": 1.8}}), True)
    with pytest.raises(ParseError, match="lack"):
        parse_weights(json.dumps({"content": {"coherence": 1.0}}), False)
    w, _ = parse_weights(json.dumps({"content": {"coherence": 1.5 - 1, "logic": -0.5 + 0.5, "richness": 0.6,
                                                 "opening-ending": -0.1}}), False)
    assert w["content/opening-ending"] == -0.1  # negative weights inside (-1, 1) are allowed


def test_formatting_rule_cases():
    asks = {"query": "Use section headings."}
    assert formatting_rule(asks, "# A\n## B\n## C\n### D\n## E") == 10
    assert formatting_rule(asks, "## A\n# B") == 5  # first heading deeper than the top level used
    assert formatting_rule({"query": "Write a poem."}, "no headings") == 10
    assert formatting_rule(asks, "no headings") == 0


def test_grid_runs_tow_beside_a_flat_method(tmp_path, capsys):
    fix = Path(__file__).resolve().parents[3] / "fixtures"

    def planted(messages):
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next(m["content"] for m in messages if m["role"] == "user")
        if "plan how a writing task" in system:
            return json.dumps(W1)
        if "Aspect:" in user:
            return json.dumps({"score": 5, "reason": "fine"})
        return json.dumps({"score": int(re.search(r"EXPECT_SCORE=(\d+)", user).group(1)), "reason": "planted"})

    srv = ScriptedServer(planted).start()
    try:
        rc = main(["grid", "--votes", str(fix / "judge_votes.jsonl"), "--queries", str(fix / "judge_queries.jsonl"),
                   "--responses", str(fix / "judge_responses.jsonl"), "--methods", "static-global,tow",
                   "--static-global", str(fix / "judge_static_global.json"),
                   "--judge", f"a=openai-compatible:{srv.base_url}@a", "--output", str(tmp_path / "g"), "--no-progress"])
    finally:
        srv.stop()
    assert rc == 0
    manifest = json.loads((tmp_path / "g" / "grid.json").read_text())
    assert [(r["method"], r["n_verdicts"]) for r in manifest["runs"]] == [("static-global", 12), ("tow", 12)]
    # Planted scores alpha 9 > beta 6 > gamma 4 on every LLM 1-10 leaf; the step leaves are 5 for all and
    # the heading rule gives all responses of a query the same score (none has headings), so the root
    # order is alpha > beta > gamma and every canonical pair goes to model_a.
    votes = [json.loads(x) for x in Path(manifest["runs"][1]["verdicts"]).read_text().splitlines()]
    assert {v["winner"] for v in votes} == {"model_a"}
