"""Vote export: FastChat layout, canonical order, per-criterion rows, stale votes, formats, CLI."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from sqlmodel import select

from annotate.commands.cli import main as annotate_main
from annotate.db.engine import session_scope
from annotate.db.models import Assignment, Query
from annotate.services.annotate.judgments import submit_judgment, submit_rating
from annotate.services.annotate.tasks import get_task
from annotate.services.core.errors import InputError, PermissionDenied
from annotate.services.studies import votes_export
from annotate.services.studies.design import StudyDesign, create_study
from annotate.services.studies.votes_export import export_votes
from tests.fixtures.study_factory import make_benchmark, make_users

DB_BACKENDS = ("sqlite", "postgres")
PINS = {"instruction_version_no": 1, "content_revision": 1}
SPEC = {("Domain 0", "Sub 00"): {7: ["zeta", "alpha"]}}

# Written by hand: u1 saw zeta (response b) on the left and chose left -> zeta wins -> model_b;
# on Clarity u1 chose right -> alpha -> model_a. u2 saw alpha on the left and said
# "equivalent, both poor" -> "tie (bothbad)". Canonical order: alpha < zeta.
# u2 also flagged "Needs an expert": the flag rides on u2's row; u1 set none -> [] on both u1 rows.
BASE = {"question_id": 7, "model_a": "alpha", "model_b": "zeta", "domain1": "Domain 0", "domain2": "Sub 00",
        "lang": "en", "query_version": 1, "stale": False, "status": "current", "instruction_version": 1}
# u2's flag has no expert decision yet: open, version 0 (no decision row)
OPEN_FLAG = {"flag": "needs_expert", "status": "open", "note": "", "expert": "", "decided_at": None, "version": 0}
# The study's own design (no extension): round 0, fixed, no expected count.
DESIGN = {"design_round": 0, "design_strategy": "fixed", "design_expected": None, "design_round_votes": None,
          "design_last_expected": None}
EXPECTED = [
    {**BASE, "winner": "model_b", "judge": "u1", "shown_left": "model_b", "rationale": "zeta is better",
     "elapsed_s": 30.0, "active_seconds": None, "flags": [], "flag_resolutions": [], **DESIGN},
    {**BASE, "winner": "model_a", "judge": "u1", "shown_left": "model_b", "rationale": "zeta is better",
     "elapsed_s": 30.0, "active_seconds": None, "criterion": "Clarity", "flags": [], "flag_resolutions": [], **DESIGN},
    {**BASE, "winner": "tie (bothbad)", "judge": "u2", "shown_left": "model_a", "rationale": "",
     "elapsed_s": 10.0, "active_seconds": None, "flags": ["needs_expert"], "flag_resolutions": [OPEN_FLAG], **DESIGN},
]


@pytest.fixture()
def voted(engine):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC, criteria=["Clarity", "Depth"])
        users = make_users(s, ["u1", "u2"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pilot", per_subdomain=1, overlap=2, annotators=["u1", "u2"], seed=1, per_criterion=True))
        rows = {a.annotator_id: a for a in s.exec(select(Assignment).where(Assignment.study_id == study.id))}
        rows[users["u1"].id].shown_left = "b"
        rows[users["u2"].id].shown_left = "a"
        s.add_all(rows.values())
        s.commit()
        submit_judgment(session=s, actor=users["u1"], assignment_id=rows[users["u1"].id].id, choice="left",
                        per_criterion={"Clarity": "right"}, rationale="zeta is better", elapsed_s=30.0,
                        submit_token="t1", **PINS)
        submit_judgment(session=s, actor=users["u2"], assignment_id=rows[users["u2"].id].id, choice="tie",
                        both_poor=True, elapsed_s=10.0, flags=["needs_expert"], submit_token="t2", **PINS)
    return engine, users


def test_jsonl_matches_hand_built_rows(voted, tmp_path):
    engine, users = voted
    path = tmp_path / "votes.jsonl"
    with session_scope(engine) as s:
        n = export_votes(session=s, actor=users["res"], study_name="pilot", path=path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert n == 3 and [json.loads(line) for line in lines] == EXPECTED
    assert list(json.loads(lines[0])) == ["question_id", "model_a", "model_b", "winner", "judge", "shown_left",
                                          "rationale", "elapsed_s", "active_seconds", "domain1", "domain2", "lang",
                                          "query_version", "stale", "status", "instruction_version", "flags",
                                          "flag_resolutions", "design_round", "design_strategy",
                                          "design_expected", "design_round_votes", "design_last_expected"]


def test_csv_and_parquet(voted, tmp_path):
    engine, users = voted
    with session_scope(engine) as s:
        export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "v.csv", fmt="csv")
        export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "v.parquet", fmt="parquet")
    with (tmp_path / "v.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["judge"], r["winner"], r["criterion"]) for r in rows] == [
        ("u1", "model_b", ""), ("u1", "model_a", "Clarity"), ("u2", "tie (bothbad)", "")]
    assert rows[0]["model_a"] == "alpha" and rows[0]["question_id"] == "7"
    # flags in CSV: the names joined by ";" (empty when none), in the column after criterion
    assert [r["flags"] for r in rows] == ["", "", "needs_expert"]
    assert list(rows[0])[14:20] == ["status", "instruction_version", "criterion", "flags", "flag_resolutions",
                                    "design_round"]
    frame = pd.read_parquet(tmp_path / "v.parquet")
    assert list(frame["winner"]) == ["model_b", "model_a", "tie (bothbad)"]
    assert [list(f) for f in frame["flags"]] == [[], [], ["needs_expert"]]
    assert list(frame["elapsed_s"]) == [30.0, 30.0, 10.0]
    assert frame["criterion"].isna().tolist() == [True, False, True]


def test_fastchat_rows_carry_flags(voted, tmp_path):
    engine, users = voted
    with session_scope(engine) as s:
        export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "v.json", fmt="fastchat")
    rows = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    # overall votes only: u1 (no flag), then u2 ("Needs an expert"); FastChat names judges expert_<name>
    assert [(r["judge"], r["flags"]) for r in rows] == [("expert_u1", []), ("expert_u2", ["needs_expert"])]


def test_flag_resolutions_in_every_format(voted, tmp_path):
    """An expert's decisions on a flag travel with the vote: its current state, note, expert and
    how many decisions (versions) it has had."""
    from annotate.db.models import Judgment
    from annotate.services.refine import flags

    engine, users = voted
    with session_scope(engine) as s:
        expert = make_users(s, ["exp"], role="expert")["exp"]
        judgment_id = next(j.id for j in s.exec(select(Judgment)).all() if j.flags)
        flags.resolve_flag(session=s, actor=expert, judgment_id=judgment_id, flag="needs_expert",
                           note="asked the author; the query is fine")
        export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "one.jsonl")
        flags.reopen_flag(session=s, actor=expert, judgment_id=judgment_id, flag="needs_expert",
                          note="a second annotator disagrees")
        for fmt, name in (("jsonl", "two.jsonl"), ("csv", "two.csv"), ("fastchat", "two.json"),
                          ("parquet", "two.parquet")):
            export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / name, fmt=fmt)
    one = [json.loads(x) for x in (tmp_path / "one.jsonl").read_text().splitlines()]
    [resolved] = one[2]["flag_resolutions"]
    assert {k: resolved[k] for k in ("flag", "status", "note", "expert", "version")} == {
        "flag": "needs_expert", "status": "resolved", "note": "asked the author; the query is fine", "expert": "exp",
        "version": 1}
    assert resolved["decided_at"]  # an ISO time
    assert one[0]["flag_resolutions"] == [] and one[1]["flag_resolutions"] == []
    # reopened: the newest decision is the state; two decisions so far
    two = [json.loads(x) for x in (tmp_path / "two.jsonl").read_text().splitlines()]
    assert [(f["status"], f["note"], f["version"]) for f in two[2]["flag_resolutions"]] == [
        ("open", "a second annotator disagrees", 2)]
    with (tmp_path / "two.csv").open(encoding="utf-8") as fh:
        cells = [r["flag_resolutions"] for r in csv.DictReader(fh)]
    assert cells[:2] == ["", ""] and json.loads(cells[2]) == two[2]["flag_resolutions"]
    fastchat = json.loads((tmp_path / "two.json").read_text(encoding="utf-8"))
    assert [r["flag_resolutions"] for r in fastchat] == [[], two[2]["flag_resolutions"]]
    frame = pd.read_parquet(tmp_path / "two.parquet")
    assert json.loads(frame["flag_resolutions"].iloc[2]) == two[2]["flag_resolutions"]


def test_stale_votes_left_out_unless_asked(voted, tmp_path):
    engine, users = voted
    with session_scope(engine) as s:
        query = s.exec(select(Query).where(Query.index == 7)).one()
        query.content_revision = 2  # an expert edit approved after the votes
        s.add(query)
        s.commit()
        assert export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "a.jsonl") == 0
        assert export_votes(session=s, actor=users["res"], study_name="pilot", path=tmp_path / "b.jsonl",
                            include_stale=True) == 3
    rows = [json.loads(x) for x in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert all(r["stale"] is True and r["query_version"] == 1 for r in rows)


def test_export_refused_for_annotators_and_bad_format(voted, tmp_path, monkeypatch):
    engine, users = voted
    out = tmp_path / "out"
    out.mkdir()
    with session_scope(engine) as s:
        with pytest.raises(PermissionDenied):
            export_votes(session=s, actor=users["u1"], study_name="pilot", path=out / "x.jsonl")
        with pytest.raises(InputError):
            export_votes(session=s, actor=users["res"], study_name="pilot", path=out / "x.xml", fmt="xml")

        def half_then_fail(rows, columns, tmp, fmt):
            tmp.write_text("{\"question_id\": 7", encoding="utf-8")
            raise OSError("disk full")

        monkeypatch.setattr(votes_export, "_write_rows", half_then_fail)
        with pytest.raises(OSError):
            export_votes(session=s, actor=users["res"], study_name="pilot", path=out / "x.jsonl")
    assert not list(out.iterdir())  # nothing half-written


def test_pointwise_export_layout(engine, tmp_path):
    with session_scope(engine) as s:
        make_benchmark(s, SPEC)
        users = make_users(s, ["u1"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pw", kind="pointwise", per_subdomain=1, overlap=1, annotators=["u1"], seed=1,
            error_types=["off-topic", "too short"]))
        rows = s.exec(select(Assignment).where(Assignment.study_id == study.id).order_by(Assignment.id)).all()
        by_model = {}
        for a in rows:
            view = get_task(session=s, actor=users["u1"], assignment_id=a.id)
            by_model[view.left_text.split()[0]] = a.id
            assert view.kind == "pointwise" and view.error_types == ("off-topic", "too short")
        with pytest.raises(InputError) as exc:
            submit_rating(session=s, actor=users["u1"], assignment_id=by_model["zeta"], score=2,
                          submit_token="p0", **PINS)
        assert exc.value.field == "error_type"
        submit_rating(session=s, actor=users["u1"], assignment_id=by_model["zeta"], score=2,
                      error_type="too short", submit_token="p1", **PINS)
        again = submit_rating(session=s, actor=users["u1"], assignment_id=by_model["zeta"], score=5,
                              submit_token="p1", **PINS)
        assert not again.created
        submit_rating(session=s, actor=users["u1"], assignment_id=by_model["alpha"], score=4,
                      submit_token="p2", **PINS)
        export_votes(session=s, actor=users["res"], study_name="pw", path=tmp_path / "r.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert rows == [
        {"item_id": 7, "system": "alpha", "rater": "u1", "criterion": "overall", "score": 4, "error_type": "",
         "domain1": "Domain 0", "domain2": "Sub 00", "lang": "en", "status": "current", "instruction_version": 1},
        {"item_id": 7, "system": "zeta", "rater": "u1", "criterion": "overall", "score": 2,
         "error_type": "too short", "domain1": "Domain 0", "domain2": "Sub 00", "lang": "en",
         "status": "current", "instruction_version": 1},
    ]


def test_cli_study_create_and_export(engine, db_url, tmp_path, capsys):
    with session_scope(engine) as s:
        make_benchmark(s, {("D", "S1"): {1: ["m1", "m2"], 2: ["m1", "m2"]},
                           ("D", "S2"): {3: ["m1", "m2"], 4: ["m2", "m3"]}})
        make_users(s, ["a1", "a2", "a3"])
    args = ["--db", db_url, "study", "create", "cli-study", "--per-subdomain", "2", "--overlap", "2",
            "--annotators", "a1,a2,a3", "--seed", "5"]
    assert annotate_main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    # 2 subdomains x 2 queries = 4 items; K=2 -> 8 assignments over 3 annotators: 3, 3, 2
    assert "queries: 4" in out and "assignments: 8" in out and "dry run" in out
    assert annotate_main(args) == 0
    assert "created study 'cli-study'" in capsys.readouterr().out
    assert annotate_main(args) == 2  # the name is taken now
    assert "exists already" in capsys.readouterr().err
    out_file = tmp_path / "votes.csv"
    assert annotate_main(["--db", db_url, "export", "votes", "--study", "cli-study", str(out_file)]) == 0
    assert "wrote 0 rows" in capsys.readouterr().out
    assert out_file.read_text().startswith("question_id,model_a,model_b,winner,judge")
    assert annotate_main(["--db", db_url, "export", "votes", "--study", "nope", str(out_file)]) == 2
