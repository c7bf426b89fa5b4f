"""`metaeval generate` against a scripted loopback server, read back by `annotate import responses`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import LLMModel, Query, Response
from annotate.services.content.imports import import_queries, import_responses
from metaeval.cli import main
from tests.fixtures.scripted_openai_server import ScriptedServer
from tests.fixtures.writingbench_samples import sample_records

_SAMPLES = sample_records()[:2]
QUERIES = [{**_SAMPLES[0], "index": 900101, "query": "Write a lesson plan.", "materials": [{"text": "Class size: 24"}]},
           {**_SAMPLES[1], "index": 900102, "query": "Write a poem."}]


def _answer(messages):
    user = messages[-1]["content"]
    return f"<think>draft</think>Answer to [{user}]"


def _write(tmp_path: Path) -> Path:
    q = tmp_path / "queries.jsonl"
    q.write_text("".join(json.dumps(x) + "\n" for x in QUERIES))
    return q


def test_generate_writes_importable_responses_and_resumes(tmp_path, capsys):
    q = _write(tmp_path)
    out = tmp_path / "resp.jsonl"
    srv = ScriptedServer(_answer).start()
    try:
        args = ["generate", "--queries", str(q), "--model", f"small=openai-compatible:{srv.base_url}@small",
                "--with-materials", "--output", str(out), "--no-progress"]
        assert main(args) == 0
        assert len(srv.log) == 2
        assert main(args) == 0  # resume: every answer comes from the cache
        assert len(srv.log) == 2
    finally:
        srv.stop()
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines == [
        {"index": 900101, "model": "small",
         "response": "Answer to [Write a lesson plan.\n\nReference material:\nClass size: 24]"},
        {"index": 900102, "model": "small", "response": "Answer to [Write a poem.]"},
    ]
    eng = init_db(f"sqlite:///{tmp_path / 'a.db'}")
    with session_scope(eng) as session:
        import_queries(session=session, path=q)
        report = import_responses(session=session, path=out)
    with session_scope(eng) as session:
        rows = session.exec(select(Query.index, LLMModel.name).join(Response, Response.query_id == Query.id)
                            .join(LLMModel, LLMModel.id == Response.model_id)).all()
    eng.dispose()
    assert sorted(rows) == [(900101, "small"), (900102, "small")], report


def test_materials_file_and_failures(tmp_path, capsys):
    q = _write(tmp_path)
    mats = tmp_path / "materials.jsonl"
    mats.write_text(json.dumps({"index": 900102, "text": "Theme: rain"}) + "\n")
    out = tmp_path / "resp.jsonl"
    srv = ScriptedServer(lambda m: "" if "lesson" in m[0]["content"] else _answer(m)).start()
    try:
        assert main(["generate", "--queries", str(q), "--model", f"m=openai-compatible:{srv.base_url}@m",
                     "--with-materials", str(mats), "--output", str(out), "--no-progress", "--max-invalid", "2"]) == 0
    finally:
        srv.stop()
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines == [{"index": 900102, "model": "m", "response": "Answer to [Write a poem.\n\nReference material:\n"
                                                                 "Theme: rain]"}]
    fails = [json.loads(x) for x in Path(str(out) + ".failures.jsonl").read_text().splitlines()]
    assert [(f["index"], f["error"].startswith("invalid answer after 2")) for f in fails] == [(900101, True)]


def test_bad_materials_line_is_located(tmp_path, capsys):
    q = _write(tmp_path)
    mats = tmp_path / "materials.jsonl"
    mats.write_text(json.dumps({"index": 1, "text": "ok"}) + "\n" + json.dumps({"index": 2}) + "\n")
    out = tmp_path / "resp.jsonl"
    assert main(["generate", "--queries", str(q), "--model", "m=openai-compatible:http://127.0.0.1:9/v1@m",
                 "--with-materials", str(mats), "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "materials.jsonl" in err and "line 2" in err and "text" in err
    assert not out.exists()
