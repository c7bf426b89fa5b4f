"""From responses to verdicts on the command line: model names, a study's pairs before any
vote, judging a study into the database, votes collected elsewhere, and an empty judge folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from annotate.commands.cli import main as annotate_main
from metaeval.cli import main as metaeval_main
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

DEMO = Path(__file__).resolve().parents[3] / "annotate" / "data" / "demo"
FIX = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture()
def server():
    srv = FakeJudgeServer().start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _demo_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = f"sqlite:///{tmp_path / 'study.db'}"
    monkeypatch.setenv("ANNOTATE_DB_URL", db)
    monkeypatch.setenv("ANNOTATE_PASSWORD", "a-long-enough-password")
    assert annotate_main(["import", "queries", str(DEMO / "queries.jsonl")]) == 0
    assert annotate_main(["import", "responses", str(DEMO / "responses.jsonl")]) == 0
    for name in ("alice", "bob"):
        assert annotate_main(["users", "add", name, "--role", "annotator"]) == 0
    assert annotate_main(["study", "create", "s1", "--per-subdomain", "1", "--overlap", "2",
                          "--annotators", "alice,bob", "--seed", "7"]) == 0
    return db


# ---------------------------------------------------------------- one naming rule for responses


def test_a_response_file_without_model_names_needs_a_name(tmp_path, capsys):
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"index": 1, "query": "Write.", "checklist": []}) + "\n")
    r = tmp_path / "gpt.jsonl"
    r.write_text(json.dumps({"index": 1, "response": "text"}) + "\n")
    rc = metaeval_main(["judge", "--method", "static-global", "--judge", "replay:none.jsonl", "--queries", str(q),
                        "--responses", str(r), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    # the file stem ("gpt") is not taken as the model's name
    assert rc == 2 and f"file {r}, line 1, field 'model'" in err and "NAME=FILE" in err


def test_named_and_field_responses_follow_one_rule(tmp_path):
    from metaeval.commands.responses_option import read_named_responses
    from metaeval.io import InputFileError

    one = tmp_path / "gpt.jsonl"
    one.write_text(json.dumps({"index": 1, "response": "x"}) + "\n")
    many = tmp_path / "all_models.jsonl"
    many.write_text(json.dumps({"index": 1, "model": "claude", "response": "yy"}) + "\n")
    got = read_named_responses([f"gpt-4o={one}", str(many)])
    assert got == {("1", "gpt-4o"): "x", ("1", "claude"): "yy"}
    assert read_named_responses([str(one)], model="m") == {("1", "m"): "x"}
    with pytest.raises(InputFileError, match="line names model 'claude' but the file was given as 'gpt-4o'"):
        read_named_responses([f"gpt-4o={many}"])


def test_agreement_takes_several_response_files(tmp_path, capsys):
    votes = tmp_path / "v.jsonl"
    votes.write_text("".join(json.dumps({"question_id": q, "model_a": "a", "model_b": "b", "winner": w,
                                         "judge": j}) + "\n"
                             for q, w in ((1, "model_a"), (2, "model_b")) for j in ("p", "q")))
    verdicts = tmp_path / "j.jsonl"
    verdicts.write_text("".join(json.dumps({"question_id": q, "model_a": "a", "model_b": "b", "winner": "model_a",
                                            "judge": "j"}) + "\n" for q in (1, 2)))
    ra, rb = tmp_path / "ra.jsonl", tmp_path / "rb.jsonl"
    ra.write_text("".join(json.dumps({"index": q, "response": "x" * 10}) + "\n" for q in (1, 2)))
    rb.write_text("".join(json.dumps({"index": q, "response": "x" * 30}) + "\n" for q in (1, 2)))
    rc = metaeval_main(["agreement", "--votes", str(votes), "--judge", f"j={verdicts}", "--responses",
                        f"a={ra}", f"b={rb}", "--bootstrap", "20", "--format", "json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    # b's responses (30 chars) are longer than a's (10) on both pairs: the judge picks a twice, so it
    # prefers the longer response in 0 of 2; people pick b on query 2 only, 2 of their 4 votes
    assert out["rows"][0]["length_bias"] == 0.0
    assert out["human"]["length_bias"] == 0.5


# ---------------------------------------------------------------- pairs before votes; judging into a study


def test_grid_refuses_an_empty_pairs_or_votes_file(tmp_path, capsys):
    empty = tmp_path / "pairs.jsonl"
    empty.write_text("")
    for option in ("--pairs", "--votes"):
        rc = metaeval_main(["grid", option, str(empty), "--queries", str(FIX / "judge_queries.jsonl"),
                            "--responses", str(FIX / "judge_responses.jsonl"), "--judge", "replay:none.jsonl",
                            "--output", str(tmp_path / "g"), "--no-progress"])
        assert rc == 2 and "no pairs to judge" in capsys.readouterr().err


def test_readme_flow_pairs_judge_import_votes_agreement(tmp_path, monkeypatch, capsys, server):
    _demo_study(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "loopback")
    # the demo has 15 queries across 14 subdomains with two models' answers; --per-subdomain 1 takes one
    # query per subdomain that has two responses -> one pair per such query
    queries = _lines(DEMO / "queries.jsonl")
    responses = _lines(DEMO / "responses.jsonl")
    answered: dict[int, set[str]] = {}
    for r in responses:
        answered.setdefault(r["index"], set()).add(r["model"])
    subdomains = {q["domain2"] for q in queries if len(answered.get(q["index"], ())) >= 2}

    assert annotate_main(["export", "pairs", "--study", "s1", "pairs.jsonl"]) == 0
    pairs = _lines(tmp_path / "pairs.jsonl")
    assert len(pairs) == len(subdomains)
    assert all(p["model_a"] < p["model_b"] for p in pairs)
    assert annotate_main(["export", "responses", "responses.jsonl"]) == 0
    exported = _lines(tmp_path / "responses.jsonl")
    assert sorted((r["index"], r["model"], r["response"]) for r in exported) == \
        sorted((r["index"], r["model"], r["response"]) for r in responses)

    # metaeval grid runs on the pairs before anyone votes
    rc = metaeval_main(["grid", "--pairs", "pairs.jsonl", "--queries", str(DEMO / "queries.jsonl"),
                        "--responses", "responses.jsonl", "--judge", f"critic=openai-compatible:{server.base_url}@c",
                        "--methods", "dynamic", "--output", "grid", "--no-progress"])
    assert rc == 0
    manifest = json.loads((tmp_path / "grid" / "grid.json").read_text())
    assert manifest["pairs"] == len(pairs) and manifest["runs"][0]["n_verdicts"] == len(pairs)

    # one command judges the study's pairs and stores the scores in the study
    capsys.readouterr()
    assert annotate_main(["study", "judge", "s1", "--judge", f"critic=openai-compatible:{server.base_url}@c",
                          "--methods", "dynamic,static-global", "--output", "runs", "--no-progress"]) == 0
    out = capsys.readouterr().out
    # 2 responses x 5 criteria per pair, for each method
    assert f"{len(pairs) * 10} inserted" in out and "dynamic/critic" in out and "static-global/critic" in out
    # study extend finds the judge runs now (its complaint, if any, is about people, not scores)
    rc = annotate_main(["study", "extend", "s1", "--votes", "4", "--strategy", "adaptive", "--dry-run",
                        "--annotators", "alice,bob"])
    err = capsys.readouterr().err
    assert "score" not in err.lower(), err

    # votes collected elsewhere: a CSV (other tool) and FastChat's JSON array
    rows = [(p["question_id"], p["model_b"], p["model_a"], w, j)
            for p, w in zip(pairs, ["model_a", "model_b", "tie"] * 10, strict=False) for j in ("carol", "dave")]
    with (tmp_path / "other.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question_id", "model_a", "model_b", "winner", "judge"])
        writer.writerows(rows)
    assert annotate_main(["import", "votes", "other.csv", "--study", "s1"]) == 0
    fastchat = [{"question_id": p["question_id"], "model_a": p["model_a"], "model_b": p["model_b"],
                 "winner": "tie (bothbad)", "judge": "expert_0", "turn": 1} for p in pairs[:3]]
    (tmp_path / "human.json").write_text(json.dumps(fastchat))
    assert annotate_main(["import", "votes", "human.json", "--study", "s1", "--turn", "1"]) == 0
    again = capsys.readouterr().out
    assert annotate_main(["import", "votes", "other.csv", "--study", "s1"]) == 0
    assert f"0 stored, {len(rows)} already there" in capsys.readouterr().out, again
    assert annotate_main(["export", "votes", "--study", "s1", "votes.jsonl"]) == 0
    votes = _lines(tmp_path / "votes.jsonl")
    assert len(votes) == len(rows) + 3
    # the CSV listed each pair as (model_b, model_a): winner model_a there means the export's model_b
    by_key = {(v["question_id"], v["judge"]): v for v in votes}
    first = pairs[0]
    assert by_key[(first["question_id"], "carol")]["winner"] == "model_b"
    assert by_key[(first["question_id"], "expert_0")]["winner"] == "tie (bothbad)"

    capsys.readouterr()
    rc = metaeval_main(["agreement", "--votes", "votes.jsonl", "--judge",
                        "dynamic/critic=runs/verdicts/critic__dynamic.jsonl",
                        "--bootstrap", "20", "--format", "json"])
    assert rc == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["n_votes"] == len(votes)

    # grid's own WritingBench folder names files MODEL__JUDGE__METHOD: no score matches a voted pair
    rc = metaeval_main(["agreement", "--votes", "votes.jsonl", "--judge", "critic=runs/scores/wb"])
    err = capsys.readouterr().err
    assert rc == 2 and "runs/scores/wb" in err and "MODEL.jsonl" in err


def test_import_votes_refuses_a_pair_the_study_lacks_and_writes_nothing(tmp_path, monkeypatch, capsys):
    _demo_study(tmp_path, monkeypatch)
    assert annotate_main(["export", "pairs", "--study", "s1", str(tmp_path / "p.jsonl")]) == 0
    first = _lines(tmp_path / "p.jsonl")[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question_id": first["question_id"], "model_a": first["model_a"],
                               "model_b": first["model_b"], "winner": "model_a", "judge": "zed"}) + "\n"
                   + json.dumps({"question_id": 123, "model_a": "x", "model_b": "y", "winner": "model_a",
                                 "judge": "zed"}) + "\n")
    capsys.readouterr()
    assert annotate_main(["import", "votes", str(bad), "--study", "s1"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "question_id" in err
    assert annotate_main(["export", "votes", "--study", "s1", str(tmp_path / "v.jsonl")]) == 0
    assert _lines(tmp_path / "v.jsonl") == []
