"""``metaeval judge --method tow`` -> ``annotate import scores`` -> the Agreement page's Table 4 has a
``tow`` row (tow root scores are weighted, so real-valued, and must be importable).

The judge is a scripted loopback server (as in tests/unit/metaeval/criteria/test_tow.py): equal
content weights, format weights 0.5/0.3/0.2, every 1-10 leaf a function of the response's length,
step leaves 0/5/10. The roots it writes are checked by hand in test_tow.py; here we check they
arrive in the database unchanged (non-integer values kept), that the leaf file gives the same
roots, and that bad scores keep their located errors.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from annotate.db.engine import init_db, session_scope
from annotate.db.models import JudgeRun, JudgeScore
from annotate.services.accounts import users
from annotate.services.core.errors import InputError
from annotate.services.judges.agreement_view import agreement_inputs, agreement_view
from annotate.services.judges.judge_runs import import_scores, load_scores
from metaeval.cli import main
from tests.fixtures.audit_seed import STUDY, seed_audit
from tests.fixtures.pairwise_seed import DEMO
from tests.fixtures.scripted_openai_server import ScriptedServer

pytestmark = pytest.mark.usefixtures("cheap_hashing")
WEIGHTS = {"content": {"coherence": 0.25, "logic": 0.25, "richness": 0.25, "opening-ending": 0.25},
           "format": {"structure": 0.5, "paragraphing": 0.3, "formatting": 0.2}}


def script(messages):
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next(m["content"] for m in messages if m["role"] == "user")
    if "plan how a writing task" in system:
        return json.dumps(WEIGHTS)
    if re.search(r"Aspect: (\w+)", user):
        return json.dumps({"score": (0, 5, 10)[len(user) % 3], "reason": "step"})
    return json.dumps({"score": len(user) % 10 + 1, "reason": "leaf"})


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tow_annotate")
    srv = ScriptedServer(script).start()
    try:
        assert main(["judge", "--method", "tow", "--judge", f"j=openai-compatible:{srv.base_url}@j",
                     "--queries", str(DEMO / "queries.jsonl"), "--responses", str(DEMO / "responses.jsonl"),
                     "--output", str(tmp / "out"), "--no-progress"]) == 0
    finally:
        srv.stop()
    engine = init_db(f"sqlite:///{tmp / 'db.sqlite'}")
    seed_audit(engine)
    yield tmp / "out", engine
    engine.dispose()


def _wb_roots(out: Path) -> dict[tuple[int, str], float]:
    roots = {}
    for p in (out / "wb").iterdir():
        for line in p.read_text().splitlines():
            obj = json.loads(line)
            roots[(obj["index"], obj["model"])] = obj["scores"]["tow"][0]["score"]
    return roots


def test_tow_roots_import_and_show_in_table4(judged):
    out, engine = judged
    roots = _wb_roots(out)
    assert any(v != int(v) for v in roots.values())  # weighted roots: real-valued
    with session_scope(engine) as s:
        for p in sorted((out / "wb").iterdir()):
            rep = import_scores(session=s, path=p, judge="j", method="tow")
            assert rep.inserted == sum(1 for _ in p.read_text().splitlines())
        run = s.exec(select(JudgeRun).where(JudgeRun.method == "tow")).one()
        df = load_scores(session=s, run_ids=[run.id])
    stored = {(int(i), m): sc for i, m, sc in zip(df["index"], df["model"], df["score"], strict=True)}
    assert stored == pytest.approx(roots) and set(df["criterion"]) == {"tow"}
    with session_scope(engine) as s:
        res = users.get_user_by_username(session=s, username="res")
        _votes, judges, _notes = agreement_inputs(session=s, study_name=STUDY)
        view = agreement_view(session=s, actor=res, study_name=STUDY, n_resamples=100)
    assert "tow/j" in judges
    assert ["tow", "j"] in [row[:2] for row in view.table_rows]


def test_leaf_file_gives_the_same_roots(judged):
    """The long layout (what ``annotate study judge`` imports) holds leaves: the run stores the root
    recomputed from leaves and weights, equal to the WritingBench file's root (so: all unchanged)."""
    out, engine = judged
    with session_scope(engine) as s:
        rep = import_scores(session=s, path=out / "j__tow.long.jsonl", judge="j", method="tow")
    assert rep.layout == "tree"
    assert (rep.inserted, rep.replaced, rep.unchanged) == (0, 0, len(_wb_roots(out)))


@pytest.mark.parametrize(("score", "message"), [(10.5, "outside 1..10"), (0.5, "outside 1..10"),
                                                ("7", "a number"), (float("nan"), "NaN is not allowed")])
def test_bad_scores_keep_their_located_error(judged, tmp_path, score, message):
    _out, engine = judged
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"index": 900001, "model": "demo-alpha", "scores": {"tow": [{"score": 7.25}]}}) + "\n"
                 + json.dumps({"index": 900002, "model": "demo-alpha", "scores": {"tow": [{"score": score}]}}) + "\n")
    with session_scope(engine) as s, pytest.raises(InputError) as err:
        import_scores(session=s, path=f, judge="bad", method="tow")
    text = str(err.value)
    assert "bad.jsonl" in text and "line 2" in text and "scores.tow[0].score" in text and message in text
    with session_scope(engine) as s:
        assert s.exec(select(JudgeRun).where(JudgeRun.judge == "bad")).first() is None
        assert s.exec(select(JudgeScore).where(JudgeScore.score == 7.25)).first() is None


def test_step_leaf_zero_is_a_score_but_not_elsewhere(tmp_path):
    from metaeval.io import InputFileError, read_scores

    leaf = {"index": 1, "model": "m", "judge": "j", "method": "tow", "criterion": "format/structure", "score": 0,
            "weight": 0.5}
    p = tmp_path / "leaves.jsonl"
    p.write_text(json.dumps(leaf) + "\n")
    assert read_scores(p)[0].score == 0
    plain = {k: v for k, v in leaf.items() if k != "weight"}
    p.write_text(json.dumps(plain) + "\n")
    with pytest.raises(InputFileError, match="outside 1..10"):
        read_scores(p)


def test_real_scores_round_trip_on_postgresql(pg_url, tmp_path):
    """Migration 0010 turns the column into a float on PostgreSQL too."""
    from tests.fixtures.pairwise_seed import seed_content

    engine = init_db(pg_url)
    try:
        seed_content(engine)
        f = tmp_path / "alpha.jsonl"
        f.write_text(json.dumps({"index": 900001, "model": "demo-alpha", "scores": {"tow": [{"score": 7.7125}]}})
                     + "\n")
        with session_scope(engine) as s:
            import_scores(session=s, path=f, judge="j", method="tow")
            assert list(load_scores(session=s)["score"]) == [7.7125]
    finally:
        engine.dispose()


def test_study_judge_with_tow_stores_roots(judged, tmp_path, monkeypatch, capsys):
    """``annotate study judge --methods tow`` imports the grid's leaf file: one root per response."""
    from annotate.commands.cli import main as annotate_main

    _out, engine = judged
    monkeypatch.setenv("ANNOTATE_DB_URL", str(engine.url))
    srv = ScriptedServer(script).start()
    try:
        assert annotate_main(["study", "judge", STUDY, "--judge", f"j2=openai-compatible:{srv.base_url}@j",
                              "--methods", "tow", "--output", str(tmp_path / "sj"), "--no-progress",
                              "--as", "res"]) == 0
    finally:
        srv.stop()
    assert "tow/j2" in capsys.readouterr().out
    roots = _wb_roots(tmp_path / "sj" / "scores")
    with session_scope(engine) as s:
        run = s.exec(select(JudgeRun).where(JudgeRun.judge == "j2", JudgeRun.method == "tow")).one()
        df = load_scores(session=s, run_ids=[run.id])
    assert set(df["criterion"]) == {"tow"} and len(df) == len(roots) > 0
    assert {(int(i), m): sc for i, m, sc in zip(df["index"], df["model"], df["score"], strict=True)} \
        == pytest.approx(roots)
