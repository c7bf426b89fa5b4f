"""Importing judge score files: both layouts, errors naming file/line/field, one transaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select

from annotate.db.engine import session_scope
from annotate.db.models import JudgeRun, JudgeScore
from annotate.services.core.errors import InputError
from annotate.services.judges.judge_runs import import_scores, list_runs, load_scores
from tests.fixtures.pairwise_seed import seed_content


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def wb_line(index, scores):
    return {"index": index, "scores": {name: [{"score": s, "reason": f"r{s}"}] for name, s in scores.items()}}


@pytest.fixture()
def content(engine):
    seed_content(engine)  # demo queries 900001.. with demo-alpha/beta/gamma responses
    return engine


def n_scores(engine):
    with session_scope(engine) as s:
        return s.exec(select(func.count(JudgeScore.id))).one()


def test_writingbench_layout_per_model(content, tmp_path):
    f = write(tmp_path / "alpha.jsonl", [wb_line(900001, {"C1": 7, "C2": 9}), wb_line(900003, {"C1": 4, "C2": 5})])
    with session_scope(content) as s:
        rep = import_scores(session=s, path=f, judge="j1", method="dynamic", model="demo-alpha")
        assert (rep.records, rep.inserted, rep.unchanged, rep.run_created) == (4, 4, 0, True)
        df = load_scores(session=s)
    assert sorted(zip(df["index"], df["model"], df["criterion"], df["position"], df["score"], strict=True)) == [
        (900001, "demo-alpha", "C1", 0, 7), (900001, "demo-alpha", "C2", 1, 9),
        (900003, "demo-alpha", "C1", 0, 4), (900003, "demo-alpha", "C2", 1, 5)]
    # re-import: nothing new, and the run is reused
    with session_scope(content) as s:
        rep = import_scores(session=s, path=f, judge="j1", method="dynamic", model="demo-alpha")
        assert (rep.inserted, rep.unchanged, rep.run_created) == (0, 4, False)
        assert [(r.label, r.n_scores, r.n_responses) for r in list_runs(session=s)] == [("dynamic/j1", 4, 2)]


def test_long_layout_with_many_models(content, tmp_path):
    rows = [{"index": 900001, "model": m, "judge": "j2", "method": "static-global", "criterion": "Clarity",
             "score": sc, "reason": "ok"} for m, sc in (("demo-alpha", 8), ("demo-beta", 3))]
    f = write(tmp_path / "long.jsonl", rows)
    with session_scope(content) as s:
        rep = import_scores(session=s, path=f, judge="j2", method="static-global")
        assert (rep.layout, rep.inserted) == ("long", 2)


@pytest.mark.parametrize(("lines", "kwargs", "where"), [
    (["{bad json"], {}, "line 1"),
    ([wb_line(900001, {"C1": 7}), wb_line(900001, {"C1": 11})], {}, "line 2, field scores.C1[0].score"),
    ([wb_line(900001, {"C1": 7}), wb_line(123, {"C1": 5})], {}, "line 2, field index"),
    ([{"index": 900001, "scores": {"C1": [{"score": 3}, {"score": 4}]}}], {}, "line 1, field scores.C1"),
    ([wb_line(900001, {"C1": 7})], {"model": "nobody"}, "line 1, field model"),
    ([{"index": 900001, "model": "demo-alpha", "judge": "other", "method": "dynamic", "criterion": "c",
       "score": 5}], {"model": None}, "line 1, field judge"),
])
def test_bad_input_names_file_line_field_and_writes_nothing(content, tmp_path, lines, kwargs, where):
    f = write(tmp_path / "bad.jsonl", lines)
    args = {"model": "demo-alpha", **kwargs}
    with session_scope(content) as s, pytest.raises(InputError) as err:
        import_scores(session=s, path=f, judge="j1", method="dynamic", **args)
    assert str(err.value).startswith(f"{f}, {where}:"), str(err.value)
    assert n_scores(content) == 0
    with session_scope(content) as s:
        assert s.exec(select(JudgeRun)).all() == []  # not even the run


def test_changed_score_refused_unless_replace(content, tmp_path):
    with session_scope(content) as s:
        import_scores(session=s, path=write(tmp_path / "a.jsonl", [wb_line(900001, {"C1": 7})]), judge="j",
                      method="dynamic", model="demo-alpha")
    changed = write(tmp_path / "b.jsonl", [wb_line(900003, {"C1": 2}), wb_line(900001, {"C1": 8})])
    with session_scope(content) as s, pytest.raises(InputError, match="line 2, field score"):
        import_scores(session=s, path=changed, judge="j", method="dynamic", model="demo-alpha")
    assert n_scores(content) == 1  # the good first line was not kept either
    with session_scope(content) as s:
        rep = import_scores(session=s, path=changed, judge="j", method="dynamic", model="demo-alpha", replace=True)
        assert (rep.inserted, rep.replaced) == (1, 1)
        assert sorted(load_scores(session=s)["score"]) == [2, 8]


def test_cli_import_scores(content, db_url, tmp_path):
    f = write(tmp_path / "beta.jsonl", [wb_line(900001, {"C1": 6})])
    cmd = [str(Path(sys.executable).parent / "annotate"), "--db", db_url, "import", "scores", str(f), "--judge", "gpt",
           "--method", "dynamic", "--model", "demo-beta"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "1 scores for dynamic/gpt (new run): 1 inserted" in out.stdout
    bad = write(tmp_path / "bad.jsonl", [wb_line(900001, {"C1": 0})])
    out = subprocess.run([*cmd[:5], str(bad), *cmd[6:]], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert f"{bad}, line 1, field scores.C1[0].score" in out.stderr
