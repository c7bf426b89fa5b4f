"""WEval groups beside Table 4: ``metaeval agreement --groups FILE`` in every format.

Hand case (C = 3, kept 3/2/1 in every group, so the gold ranks are 1, 2, 3):
- group 0, scores 9, 7, 4: judge ranks 1, 2, 3 -> tau 1, tau-b 1, position 1, exact 1;
- group 1, scores 5, 5, 5: WEval's rule breaks the ties by kept count -> ranks 1, 2, 3 -> tau 1,
  position 1, exact 1; with ties kept the judge ordered nothing -> tau-b 0;
- group 2, scores 2, 6, 8: ranks 3, 2, 1 -> tau -1, tau-b -1, position 1 - (2+0+2)/3/2 = 1/3, exact 0.
Means: tau 1/3, tau-b 0, position (1 + 1 + 1/3)/3 = 7/9, exact 2/3.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from metaeval.cli import main

VOTES = [("1", "model_a", "h1"), ("1", "model_a", "h2"), ("2", "model_b", "h1"), ("2", "model_a", "h2")]
JUDGE = [("1", "model_a"), ("2", "model_b")]
HAND = {"kendall_tau": 1 / 3, "kendall_tau_b": 0.0, "position_consistency": 7 / 9, "exact_match": 2 / 3}


@pytest.fixture()
def files(tmp_path):
    v = tmp_path / "votes.jsonl"
    v.write_text("".join(json.dumps({"question_id": int(q), "model_a": "a", "model_b": "b", "winner": w,
                                     "judge": h}) + "\n" for q, w, h in VOTES))
    j = tmp_path / "judge.jsonl"
    j.write_text("".join(json.dumps({"question_id": int(q), "model_a": "a", "model_b": "b", "winner": w,
                                     "judge": "j"}) + "\n" for q, w in JUDGE))
    g = tmp_path / "scored_3c.jsonl"
    lines = []
    for group, scores in enumerate([(9, 7, 4), (5, 5, 5), (2, 6, 8)]):
        for i, (score, kept) in enumerate(zip(scores, (3, 2, 1), strict=True)):
            lines.append({"prompt": "p", "chosen": "r", "constraint": ["x", "y", "z"],
                          "instruction_id_list": list(range(kept)), "group": group, "index": i, "score": score,
                          "judge": "j", "method": "tow"})
    g.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return v, j, g


def _agreement(capsys, files, fmt, *extra):
    v, j, _g = files
    assert main(["agreement", "--votes", str(v), "--judge", f"dyn/j={j}", "--bootstrap", "200", "--format", fmt,
                 *extra]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv", "html", "json"])
def test_section_is_added_and_table4_unchanged(capsys, files, fmt):
    plain = _agreement(capsys, files, fmt)
    both = _agreement(capsys, files, fmt, "--groups", str(files[2]))
    if fmt == "json":
        obj = json.loads(both)
        got = obj.pop("groups")
        assert obj == json.loads(plain)  # Table 4's JSON as without --groups
        row = got["judges"]["tow/j"]
        assert {m: row[m]["value"] for m in HAND} == pytest.approx(HAND)
        assert row["groups"] == 3 and row["group_size"] == 3
        assert "judge's favour" in got["settings"]["tie_rule"]
        return
    if fmt == "html":
        assert both.startswith(plain.replace("</body></html>\n", ""))
    else:
        assert both.startswith(plain)  # the section comes after the Table 4 report, which is unchanged
    extra = both[len(plain):] if fmt != "html" else both
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(both)))
        groups = {r["method"]: r for r in rows if r["row_type"] == "groups"}
        assert {m: float(groups[f"groups/{m}"]["agreement"]) for m in HAND} == pytest.approx(HAND)
        assert {r["n_votes"] for r in groups.values()} == {"3"} and {r["n_unit"] for r in groups.values()} == {"groups"}
        return
    # 1/3, 0, 7/9, 2/3 with three decimals, each with its interval
    for cell in ("0.333 [", "0.000 [", "0.778 [", "0.667 ["):
        assert cell in extra
    assert "tow/j" in extra
    assert "favour" in extra and "keeps them" in extra  # says which tau is which


def test_two_files_get_paired_comparisons_and_bad_file_is_located(capsys, files, tmp_path):
    g = files[2]
    out = _agreement(capsys, files, "markdown", "--groups", f"a={g}", "--groups", f"b={g}")
    assert "| a | 3 | 3 |" in out and "| b | 3 | 3 |" in out and "Paired comparisons (groups, Holm)" in out
    bad = tmp_path / "bad_3c.jsonl"
    bad.write_text("".join(x + "\n" for x in g.read_text().splitlines()[:4]))  # a group missing two responses
    v, j, _ = files
    assert main(["agreement", "--votes", str(v), "--judge", f"dyn/j={j}", "--groups", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad_3c.jsonl" in err and "line 4" in err and "group" in err


@pytest.mark.parametrize("fmt", ["latex", "csv", "html"])
def test_groups_agreement_command_takes_every_format(capsys, files, fmt):
    assert main(["groups", "agreement", "--scored", str(files[2]), "--bootstrap", "50", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert ("0.333" in out) if fmt != "csv" else ("groups/kendall_tau,3,0.3333333333333333" in out)
