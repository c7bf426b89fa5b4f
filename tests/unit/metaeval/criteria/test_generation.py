"""`metaeval criteria generate` end to end on a loopback server, then judging with the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metaeval.cli import main
from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

FIX = Path(__file__).resolve().parents[3] / "fixtures"


@pytest.fixture()
def server():
    srv = FakeJudgeServer().start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_generate_then_judge_with_generated_criteria(server, tmp_path, capsys):
    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps({"index": i, "domain1": "Education", "domain2": "Lesson Plans",
                                           "query": text}) + "\n"
                               for i, text in ((1, "Write a lesson plan on fractions."),
                                               (2, "ALWAYS_INVALID: write a poem."))), encoding="utf-8")
    out = tmp_path / "q_gen.jsonl"
    rc = main(["criteria", "generate", "--queries", str(queries), "--judge",
               f"openai-compatible:{server.base_url}@fake", "--output", str(out), "--no-progress"])
    assert rc == 1  # query 2 never got five criteria
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["index"] for r in rows] == [1]
    assert [c["name"] for c in rows[0]["checklist"]] == [f"Generated {i}" for i in range(1, 6)]
    [failure] = [json.loads(x) for x in Path(str(out) + ".failures.jsonl").read_text().splitlines()]
    assert failure["index"] == 2 and len(failure["raw"]) == 3 and "field (top level)" in failure["error"]

    responses = tmp_path / "m1.jsonl"
    responses.write_text(json.dumps({"index": 1, "response": "EXPECT_SCORE=6 A plan."}) + "\n")
    capsys.readouterr()
    assert main(["judge", "--method", "dynamic", "--judge", f"openai-compatible:{server.base_url}@fake",
                 "--queries", str(out), "--responses", f"m1={responses}", "--output", str(tmp_path / "j"),
                 "--no-progress"]) == 0
    long = [json.loads(x) for x in (tmp_path / "j" / "fake__dynamic.long.jsonl").read_text().splitlines()]
    assert [(r["criterion"], r["score"]) for r in long] == [(f"Generated {i}", 6) for i in range(1, 6)]


def test_judge_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"index": 1, "query": "x"}\n{"index": 2}\n', encoding="utf-8")
    rc = main(["judge", "--method", "dynamic", "--judge", "replay:none.jsonl", "--queries", str(queries),
               "--responses", str(queries), "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and f"file {queries}, line 2, field 'query'" in err
    assert not (tmp_path / "o").exists()
