"""Paper tables: Table 4's pivot in four formats; breakdowns and bias in every format.

Hand-made study: query 1 (English) and query 2 (Chinese), models a and b, people p1 and p2.
Votes: q1 p1 a, q1 p2 a; q2 p1 b, q2 p2 tie.
Verdicts: dynamic/g: q1 a, q2 b -> matches 2 + 1 = 3 of 4 = 75.0%;
          static-global/g: q1 b, q2 b -> 0 + 1 = 1 of 4 = 25.0%;
          dynamic/h: q1 tie, q2 tie -> 0 + 1 (p2's tie) = 1 of 4 = 25.0%.
Pivot: methods (dynamic, static-global) x judges (g, h); best of column g = dynamic (75.0), of column
h = dynamic (its only cell). Breakdown by language for dynamic/g: en 2 of 2 = 100.0%, zh 1 of 2 = 50.0%.
Lengths: a 30 / b 10 characters on q1, a 10 / b 30 on q2: dynamic/g picks the longer one both times
(length bias 100.0%).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from metaeval.cli import main


@pytest.fixture()
def study(tmp_path):
    def write(name, rows):
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                     encoding="utf-8")
        return str(tmp_path / name)

    votes = write("votes.jsonl", [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": j}
                                  for q, w, j in ((1, "model_a", "p1"), (1, "model_a", "p2"),
                                                  (2, "model_b", "p1"), (2, "tie", "p2"))])

    def verdicts(name, w1, w2):
        return write(name, [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w, "judge": "x"}
                            for q, w in ((1, w1), (2, w2))])

    judges = [f"dynamic/g={verdicts('dg.jsonl', 'model_a', 'model_b')}",
              f"static-global/g={verdicts('sg.jsonl', 'model_b', 'model_b')}",
              f"dynamic/h={verdicts('dh.jsonl', 'tie', 'tie')}"]
    queries = write("q.jsonl", [{"index": 1, "domain1": "D", "domain2": "S", "query": "Write a letter."},
                                {"index": 2, "domain1": "D", "domain2": "S", "query": "写一封信。"}])
    responses = write("r.jsonl", [{"index": 1, "model": "a", "response": "x" * 30},
                                  {"index": 1, "model": "b", "response": "x" * 10},
                                  {"index": 2, "model": "a", "response": "x" * 10},
                                  {"index": 2, "model": "b", "response": "x" * 30}])
    base = ["agreement", "--votes", votes, "--bootstrap", "50", "--queries", queries, "--responses", responses]
    for j in judges:
        base += ["--judge", j]
    return base


def run(capsys, argv):
    assert main(argv) == 0
    return capsys.readouterr().out


def test_pivot_markdown_marks_the_best_method_per_judge(study, capsys):
    out = run(capsys, [*study, "--layout", "pivot", "--format", "markdown"])
    lines = [x for x in out.splitlines() if x.startswith("| ")]
    assert lines[0] == "| Method | g | h |"
    assert lines[1].startswith("| dynamic | **75.0 [") and "| **25.0 [" in lines[1]
    assert lines[2].startswith("| static-global | 25.0 [") and lines[2].endswith("| – |")


def test_pivot_in_latex_html_and_csv(study, capsys):
    latex = run(capsys, [*study, "--layout", "pivot", "--format", "latex"])
    assert r"dynamic & \textbf{75.0 [" in latex and r"static-global & 25.0 [" in latex
    page = run(capsys, [*study, "--layout", "pivot", "--format", "html"])
    assert "<td>dynamic</td><td><b>75.0 [" in page
    rows = list(csv.DictReader(io.StringIO(run(capsys, [*study, "--layout", "pivot", "--format", "csv"]))))
    got = {(r["method"], r["judge"]): (float(r["agreement"]), r["best"]) for r in rows}
    assert got == {("dynamic", "g"): (0.75, "1"), ("static-global", "g"): (0.25, "0"), ("dynamic", "h"): (0.25, "1")}


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_breakdown_and_bias_in_every_text_format(study, capsys, fmt):
    out = run(capsys, [*study, "--breakdown", "lang", "--format", fmt])
    assert "Bias" in out and "Breakdown" in out
    for cell in ("100.0", "50.0"):
        assert cell in out
    # the length-bias cell of dynamic/g: 100.0 (both picks are the longer response)
    bias_part = out[out.index("Bias"):]
    assert "100.0" in bias_part.split("Breakdown")[0]


def test_breakdown_and_bias_in_csv(study, capsys):
    rows = list(csv.DictReader(io.StringIO(run(capsys, [*study, "--breakdown", "lang", "--format", "csv"]))))
    dg = next(r for r in rows if r["row_type"] == "judge" and r["judge"] == "dynamic/g")
    assert float(dg["length_bias"]) == 1.0
    bd = {(r["breakdown_group"], r["judge"]): (int(r["n_votes"]), float(r["agreement"]))
          for r in rows if r["row_type"] == "breakdown"}
    assert bd[("en", "dynamic/g")] == (2, 1.0) and bd[("zh", "dynamic/g")] == (2, 0.5)


def test_correlation_report_matches_the_agreement_report(tmp_path, capsys):
    # two items x three systems; the judge gives the people's own scores, so every correlation
    # (and every bootstrap resample of it) is exactly 1
    ratings = tmp_path / "h.jsonl"
    rows = [{"item_id": i, "system": s, "rater": "r1", "criterion": "overall", "score": v}
            for i, scores in ((1, (1, 2, 3)), (2, (2, 3, 5))) for s, v in zip("abc", scores, strict=True)]
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    base = ["correlation", "--ratings", str(ratings), "--judge", f"j={ratings}", "--level", "item",
            "--bootstrap", "20", "--seed", "3"]
    md = run(capsys, [*base, "--format", "markdown"])
    assert md.startswith("## Correlation between judge and human scores")
    assert "Bootstrap: 20 resamples of items, seed 3; 95% intervals" in md
    out = json.loads(run(capsys, [*base, "--format", "json"]))
    assert out["settings"] == {"n_resamples": 20, "seed": 3, "level": 0.95, "levels": ["item"]}
    assert out["warnings"] == []  # three systems per item
    csv_rows = list(csv.DictReader(io.StringIO(run(capsys, [*base, "--format", "csv"]))))
    assert len(csv_rows) == 1
    assert [float(csv_rows[0][c]) for c in ("pearson", "pearson_ci_lo", "pearson_ci_hi")] == pytest.approx([1, 1, 1])


def test_rankings_tables_fit_a_page_by_default(tmp_path, capsys):
    votes = tmp_path / "v.jsonl"
    rows = [{"question_id": q, "model_a": a, "model_b": b, "winner": w, "judge": p}
            for q in range(1, 7) for (a, b), w in ((("a", "b"), "model_a"), (("b", "c"), "model_a"),
                                                   (("a", "c"), "tie")) for p in ("p1", "p2")]
    votes.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["rankings", "--votes", str(votes), "--bootstrap", "20"]
    for k in range(10):  # people + 10 judge rows = 11 sources: 44 + 1 columns in the wide layout
        argv += ["--judge", f"m/j{k}={votes}"]
    out = run(capsys, [*argv, "--format", "markdown"])
    headers = [x for x in out.splitlines() if x.startswith("| Model")]
    # 11 sources at 9 per table: two tables, of 1 + 9 and 1 + 2 columns
    assert [h.count(" | ") + 1 for h in headers] == [10, 3]
    wide = run(capsys, [*argv, "--format", "markdown", "--table", "full"])
    assert max(x.count(" | ") + 1 for x in wide.splitlines() if x.startswith("| Model")) == 45


def test_correlation_warns_when_a_level_is_degenerate(tmp_path, capsys):
    # every item rated for two systems only: an item's correlation can only be +1 or -1; three systems
    # in all: the system level has three points
    ratings = tmp_path / "h.jsonl"
    rows = [{"item_id": i, "system": s, "rater": "r1", "criterion": "overall", "score": v}
            for i, pair in ((1, (("a", 1), ("b", 3))), (2, (("b", 2), ("c", 5))), (3, (("a", 4), ("c", 1))))
            for s, v in pair]
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = json.loads(run(capsys, ["correlation", "--ratings", str(ratings), "--judge", f"j={ratings}",
                                  "--bootstrap", "20", "--format", "json"]))
    assert [w.split(":")[0] for w in out["warnings"]] == ["item level", "system level"]
    assert "at most 2 systems per item" in out["warnings"][0] and "only 3 systems" in out["warnings"][1]


def test_correlation_reports_the_human_ceiling(tmp_path, capsys):
    # r1 rates 1 2 3 4 and r2 rates 1 2 4 4 on the same four (item, system) cells:
    # Cohen's kappa: p_o = 3/4; p_e = 1/4*1/4 + 1/4*1/4 + 1/4*0 + 1/4*2/4 = 1/4 -> (3/4 - 1/4) / (3/4) = 2/3;
    # Pearson: sum dx*dy = 5.5, sum dx^2 = 5, sum dy^2 = 6.75 -> 5.5 / sqrt(33.75) = 0.94672
    ratings = tmp_path / "h.jsonl"
    cells = [(1, "a"), (1, "b"), (2, "a"), (2, "b")]
    rows = [{"item_id": i, "system": s, "rater": r, "criterion": "overall", "score": v}
            for r, scores in (("r1", (1, 2, 3, 4)), ("r2", (1, 2, 4, 4))) for (i, s), v in zip(cells, scores, strict=True)]
    ratings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["correlation", "--ratings", str(ratings), "--judge", f"j={ratings}", "--bootstrap", "20"]
    out = json.loads(run(capsys, [*argv, "--format", "json"]))
    assert out["human"]["n_rater_pairs"] == 1 and out["human"]["n_shared"] == 4
    assert out["human"]["cohen_kappa"] == pytest.approx(2 / 3)
    assert out["human"]["pearson"] == pytest.approx(5.5 / 33.75 ** 0.5)
    assert "Cohen's kappa 0.667, Pearson 0.947" in run(capsys, [*argv, "--format", "markdown"])
