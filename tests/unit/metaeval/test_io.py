"""Readers name file, line and field on bad input; reports are byte-identical for the same seed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from metaeval.cli import main
from metaeval.io import InputFileError, read_ratings, read_scores, read_votes, write_scores_writingbench
from metaeval.types import ScoreRecord

FIX = Path(__file__).resolve().parents[2] / "fixtures"
ARGS = ["--votes", str(FIX / "stats_votes_human.jsonl"), "--judge", f"x/j1={FIX / 'stats_votes_judge1.jsonl'}",
        "--judge", f"y/j2={FIX / 'stats_votes_judge2.jsonl'}", "--bootstrap", "300"]


def test_bom_and_tie_variants_accepted(tmp_path):
    p = tmp_path / "v.jsonl"
    p.write_bytes("\ufeff".encode() + b'{"question_id": "q", "model_a": "m", "model_b": "n", "winner": "tie (bothbad)"}\n')
    assert read_votes(p)[0].winner == "tie"


@pytest.mark.parametrize(("line", "field"), [
    ('{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_c"}', "winner"),
    ('{"question_id": 1, "model_b": "b", "winner": "tie"}', "model_a"),
    ('{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "tie", "order": "xy"}', "order"),
])
def test_bad_vote_names_file_line_field(tmp_path, line, field):
    p = tmp_path / "votes.jsonl"
    p.write_text('{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "tie"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as e:
        read_votes(p)
    assert (e.value.path, e.value.line, e.value.field) == (str(p), 2, field)
    assert str(p) in str(e.value) and "line 2" in str(e.value) and repr(field) in str(e.value)


def test_bad_json_and_scores(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"index": 1, "scores": {"Clarity": [{"score": 11, "reason": "r"}]}}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"line 1.*scores\.Clarity\[0\]\.score"):
        read_scores(p, model="m")
    p.write_text('{"index": 1,\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 1: invalid JSON"):
        read_scores(p, model="m")
    p.write_text('{"item_id": 1, "system": "s", "rater": "r", "criterion": "c", "score": "high"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="field 'score'"):
        read_ratings(p)


def test_writingbench_layout_roundtrip(tmp_path):
    recs = [ScoreRecord(5, "m", "j", "dyn", "Clarity", 7, "ok"), ScoreRecord(5, "m", "j", "dyn", "Depth", 3, "thin")]
    p = tmp_path / "m.jsonl"
    write_scores_writingbench(p, recs)
    assert json.loads(p.read_text())["scores"]["Depth"] == [{"score": 3, "reason": "thin"}]
    assert read_scores(p, model="m", judge="j", method="dyn") == recs


def test_cli_error_is_one_line_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question_id": 1, "model_a": "a", "model_b": "b"}\n', encoding="utf-8")
    out = tmp_path / "out.md"
    assert main(["agreement", "--votes", str(bad), "--judge", f"j={bad}", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and "line 1" in err and "'winner'" in err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["json", "markdown", "latex", "csv", "html"])
def test_same_seed_byte_identical(tmp_path, fmt):
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}.{fmt}"
        assert main(["agreement", *ARGS, "--seed", "11", "--format", fmt, "--output", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    if fmt == "markdown":
        assert b"| x | j1 | 8 | 37.5 |" in outs[0]
    if fmt == "latex":
        assert b"\\toprule" in outs[0] and b"\\bottomrule" in outs[0]


def test_different_seed_changes_intervals(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    main(["agreement", *ARGS, "--seed", "1", "--format", "json", "--output", str(a)])
    main(["agreement", *ARGS, "--seed", "2", "--format", "json", "--output", str(b)])
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    assert ja["rows"][0]["agreement"] == jb["rows"][0]["agreement"]
    assert ja["settings"]["seed"] != jb["settings"]["seed"]


def test_figures_share_one_plotly_js_by_default(tmp_path):
    figs = tmp_path / "figs"
    assert main(["agreement", *ARGS, "--format", "csv", "--output", str(tmp_path / "t.csv"), "--figures", str(figs)]) == 0
    text = (figs / "agreement.html").read_text(encoding="utf-8")
    # no remote script and no inlined copy: the page loads the one plotly.min.js beside it
    assert 'src="http' not in text and len(text) < 100_000 and 'src="plotly.min.js"' in text
    assert (figs / "confusion.html").exists() and (figs / "plotly.min.js").stat().st_size > 1_000_000
    assert sorted(p.name for p in figs.iterdir()) == ["agreement.html", "confusion.html", "plotly.min.js"]


@pytest.mark.parametrize(("mode", "inlined", "remote"), [("inline", True, False), ("cdn", False, True)])
def test_figures_plotlyjs_inline_or_cdn(tmp_path, mode, inlined, remote):
    figs = tmp_path / mode
    assert main(["agreement", *ARGS, "--format", "csv", "--output", str(tmp_path / "t.csv"), "--figures", str(figs),
                 "--plotlyjs", mode]) == 0
    text = (figs / "agreement.html").read_text(encoding="utf-8")
    assert (len(text) > 1_000_000) is inlined and ('src="https://cdn.plot.ly/' in text) is remote
    assert not (figs / "plotly.min.js").exists()


def test_no_tie_interval_in_every_format_and_csv_human_ceiling_row(tmp_path):
    out = {}
    for fmt in ("json", "markdown", "latex", "html", "csv"):
        p = tmp_path / f"r.{fmt}"
        assert main(["agreement", *ARGS, "--seed", "4", "--format", fmt, "--output", str(p)]) == 0
        out[fmt] = p.read_text(encoding="utf-8")
    data = json.loads(out["json"])

    def pct(x):
        return f"{100 * x:.1f}"

    for r in [*data["rows"], data["human"]]:
        lo, hi = r["ci_no_ties"]
        cell = f"[{pct(lo)}, {pct(hi)}]"
        for fmt in ("markdown", "latex", "html"):
            assert cell in out[fmt], (fmt, cell)
    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert [r["row_type"] for r in rows] == ["judge"] * len(data["rows"]) + ["human_ceiling"]
    human = rows[-1]
    assert float(human["agreement"]) == data["human"]["agreement"]
    assert float(human["ci_no_ties_lo"]) == data["human"]["ci_no_ties"][0]
    assert int(human["n_vote_pairs"]) == data["human"]["n_vote_pairs"]
    assert float(rows[0]["ci_no_ties_hi"]) == data["rows"][0]["ci_no_ties"][1]


@pytest.mark.parametrize(("human_label", "judge_unit", "human_unit"),
                         [("per-vote", "votes", "vote pairs"), ("majority", "pairs", "votes")])
def test_every_format_says_what_n_counts(human_label, judge_unit, human_unit):
    """Two people vote on one pair (2 votes, 1 vote pair); a judge gives one verdict on it. Per vote
    the judge row counts 2 votes and the human row 1 vote pair; against the majority the judge row
    counts 1 pair and the human row counts the 2 votes, each against the other's vote."""
    from metaeval.report.agreement import render
    from metaeval.stats.agreement_study import agreement_study

    votes = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": h} for h in ("h1", "h2")]
    judge = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "j"}]
    res = agreement_study(votes, {"m/j": judge}, n_resamples=10, human_label=human_label)
    data = json.loads(render(res, fmt="json"))
    assert (data["rows"][0]["n_votes"], data["rows"][0]["n_unit"]) == ((2 if human_label == "per-vote" else 1),
                                                                       judge_unit)
    assert (data["human"]["n_vote_pairs"], data["human"]["n_unit"]) == ((1 if human_label == "per-vote" else 2),
                                                                        human_unit)
    md = render(res, fmt="markdown")
    assert "| n counts |" in md and f"| {judge_unit} |\n" in md and f"| {human_unit} |\n" in md
    for fmt in ("latex", "html"):
        text = render(res, fmt=fmt)
        assert "n counts" in text and human_unit in text and judge_unit in text
    rows = list(csv.DictReader(io.StringIO(render(res, fmt="csv"))))
    assert [r["n_unit"] for r in rows] == [judge_unit, human_unit]
