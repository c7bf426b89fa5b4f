"""The fast vote reader (pyarrow) gives exactly what the strict line-by-line reader gives, and
hands every file it cannot prove equal to the strict reader, whose errors stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from annotate.commands.cli import main as annotate_main
from metaeval import arrow_votes
from metaeval.cli import main
from metaeval.io import (
    InputFileError,
    _read_votes_frame_strict,
    read_votes_frame,
    read_votes_frame_and_columns,
)
from metaeval.stats.design import read_vote_design


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _study(n_q: int = 60, seed: int = 3, *, text_ids: bool = False) -> tuple[list[dict], dict[str, list[dict]]]:
    """Votes with ties of both spellings, an adaptive round with design weights, votes without a
    judge field, per-criterion and stale votes; question ids as numbers (or as text); two judges."""
    rng = np.random.default_rng(seed)
    models = ["m-zeta", "m-alpha", "m-mid"]
    votes, judges = [], {"j1": [], "j2": []}
    for q in range(n_q):
        a, b = rng.choice(3, 2, replace=False)
        qid: int | str = f"q{q}" if text_ids else q
        e = float(rng.choice([0.5, 1.5, 2.0]))
        for r in range(3 + int(rng.integers(0, 3))):
            w = str(rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"]))
            row: dict = {"question_id": qid, "model_a": models[a], "model_b": models[b], "winner": w}
            if r != 1 or q % 5:  # some votes carry no judge field
                row["judge"] = f"p{r}"
            rnd = 1 if r >= 3 else 0
            row |= {"design_round": rnd, "design_strategy": "adaptive" if rnd else "fixed",
                    "design_expected": e if rnd else None, "design_round_votes": 20 if rnd else None,
                    "design_last_expected": e, "flags": ["needs_expert"] if r == 2 else []}
            if q % 9 == 0 and r == 0:
                row["criterion"] = "clarity"
            if q % 11 == 0 and r == 2:
                row["stale"] = True
            if q % 3 == 0:
                row["shown_left"] = "model_b"
            votes.append(row)
        for j in judges:
            judges[j].append({"question_id": qid, "model_a": models[a], "model_b": models[b],
                              "winner": str(rng.choice(["model_a", "model_b", "tie"])), "judge": j})
    return votes, judges


def _agreement_json(votes: Path, judges: dict[str, Path], out: Path) -> str:
    args = ["agreement", "--votes", str(votes), "--bootstrap", "200", "--seed", "2", "--format", "json",
            "--output", str(out)]
    for name, path in judges.items():
        args += ["--judge", f"m/{name}={path}"]
    assert main(args) == 0
    return out.read_text(encoding="utf-8")


def _both_paths(monkeypatch, votes: Path, judges: dict[str, Path], tmp_path: Path) -> tuple[str, str]:
    fast = _agreement_json(votes, judges, tmp_path / "fast.json")
    monkeypatch.setattr(arrow_votes, "ENABLED", False)
    strict = _agreement_json(votes, judges, tmp_path / "strict.json")
    return fast, strict


@pytest.mark.parametrize("text_ids", [False, True])
def test_generated_study_reads_the_same_on_both_paths(tmp_path, monkeypatch, text_ids):
    votes, judges = _study(text_ids=text_ids)
    vp = _write(tmp_path / "votes.jsonl", votes)
    jp = {name: _write(tmp_path / f"{name}.jsonl", rows) for name, rows in judges.items()}
    monkeypatch.setattr(arrow_votes, "BLOCK_BYTES", 2048)  # many blocks
    frame, cols = read_votes_frame_and_columns(vp)
    assert cols is not None, "the fast reader should take this file"
    pd.testing.assert_frame_equal(frame, _read_votes_frame_strict(vp))
    design = read_vote_design(vp, columns=cols)
    assert design is not None
    pd.testing.assert_frame_equal(design, read_vote_design(vp))
    fast, strict = _both_paths(monkeypatch, vp, jp, tmp_path)
    assert json.loads(fast)["settings"]["estimator"] == "design-based"
    assert fast == strict


@pytest.mark.usefixtures("cheap_hashing")
def test_demo_votes_read_the_same_on_both_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert annotate_main(["--db", db, "demo", "--no-serve"]) == 0
    assert annotate_main(["--db", db, "export", "votes", "--study", "demo-audit", str(tmp_path / "v.jsonl")]) == 0
    vp = tmp_path / "v.jsonl"
    assert arrow_votes.read_vote_columns(vp) is not None, "the demo export should take the fast path"
    pd.testing.assert_frame_equal(read_votes_frame(vp), _read_votes_frame_strict(vp))
    # the demo's judges, as verdict files: every 3rd pair a tie, else the lower-named model
    pairs = sorted({(r["question_id"], r["model_a"], r["model_b"]) for r in map(json.loads, vp.read_text().splitlines())})
    jp = {}
    for k in range(2):
        jp[f"j{k}"] = _write(tmp_path / f"j{k}.jsonl", [
            {"question_id": q, "model_a": a, "model_b": b, "winner": ["tie", "model_a", "model_b"][(i + k) % 3],
             "judge": f"j{k}"} for i, (q, a, b) in enumerate(pairs)])
    fast, strict = _both_paths(monkeypatch, vp, jp, tmp_path)
    assert fast == strict


_GOOD = '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": "h"}\n'


@pytest.mark.parametrize("bad", [
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": "h", "judge": "g"}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": null}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "stale": null}\n',
    '{"question_id": 1, "model_a": "x\\u0000", "model_b": "y", "winner": "tie"}\n',
    '{"question_id": 1, "model_a": "\\ud800", "model_b": "y", "winner": "tie"}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "design_expected": NaN}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "design_expected": 1e400}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "design_expected": 99999999999999999999}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie"} {"question_id": 2, "model_a": "x", '
    '"model_b": "y", "winner": "tie"}\n',
    '{"question_id": 1.0, "model_a": "x", "model_b": "y", "winner": "tie"}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "x", "winner": "tie"}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "both"}\n',
    '{"question_id": 1, "model_a": "x", "model_b": "y"}\n',
    '{"question_id": 1, "model_a": "x\ty", "model_b": "y", "winner": "tie"}\n',
    '{"question_id": true, "model_a": "x", "model_b": "y", "winner": "tie"}\n',
])
def test_files_the_fast_reader_cannot_prove_go_to_the_strict_reader(tmp_path, bad):
    p = tmp_path / "v.jsonl"
    p.write_text(_GOOD + bad + _GOOD, encoding="utf-8")
    assert arrow_votes.read_vote_columns(p) is None
    with pytest.raises(InputFileError) as exc:
        _read_votes_frame_strict(p)
    with pytest.raises(InputFileError) as same:
        read_votes_frame(p)
    assert str(same.value) == str(exc.value)
    assert "line 2" in str(same.value)


def test_invalid_utf8_goes_to_the_strict_reader(tmp_path, capsys):
    p = tmp_path / "v.jsonl"
    p.write_bytes(_GOOD.encode() + b'{"question_id": 1, "model_a": "\xff", "model_b": "y", "winner": "tie"}\n')
    assert arrow_votes.read_vote_columns(p) is None
    assert main(["agreement", "--votes", str(p), "--judge", f"j={p}"]) != 0
    assert f"file {p}, line 2: not valid UTF-8" in capsys.readouterr().err


def test_question_ids_as_numbers_and_as_text_in_one_file(tmp_path):
    # in one block pyarrow refuses the mix (strict reader); in separate blocks both become text
    p = tmp_path / "v.jsonl"
    p.write_text(_GOOD * 40 + _GOOD.replace('"question_id": 1', '"question_id": "1"') * 40, encoding="utf-8")
    assert arrow_votes.read_vote_columns(p) is None
    cols = arrow_votes.read_vote_columns(p, block_bytes=len(_GOOD) * 40)
    assert cols is not None and cols.qid == ["1"]
    pd.testing.assert_frame_equal(read_votes_frame(p), _read_votes_frame_strict(p))


def test_blank_lines_and_a_byte_order_mark_are_read_as_the_strict_reader_reads_them(tmp_path):
    p = tmp_path / "v.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + _GOOD.encode() + b"\n   \n" + _GOOD.replace('"h"', '"g"').encode())
    assert arrow_votes.read_vote_columns(p) is not None
    pd.testing.assert_frame_equal(read_votes_frame(p), _read_votes_frame_strict(p))


@pytest.mark.parametrize("opening", ["{", "["])
def test_a_deeply_nested_line_goes_to_the_strict_reader_without_crashing(tmp_path, opening):
    # pyarrow's JSON parser recurses once per level; 200,000 levels overflowed the C stack and
    # killed the process (a segmentation fault, no error message). Run in a child process so a
    # crash fails this test instead of the whole run.
    import subprocess
    import sys

    p = tmp_path / "v.jsonl"
    deep = '{"question_id": 1, "model_a": "x", "model_b": "y", "winner": "tie", "judge": ' \
        + opening * 200_000 + "\n"
    p.write_text(_GOOD * 50 + deep, encoding="utf-8")
    code = ("import sys; from metaeval import arrow_votes; "
            "print(arrow_votes.read_vote_columns(sys.argv[1]) is None)")
    run = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.strip() == "True"
    # one normal line with a few braces in its text stays on the fast path
    q = tmp_path / "w.jsonl"
    q.write_text(_GOOD * 50 + _GOOD.replace('"judge": "h"', '"judge": "{[{[h]}]}"'), encoding="utf-8")
    assert arrow_votes.read_vote_columns(q) is not None


def test_export_fields_no_statistic_reads_keep_the_fast_path(tmp_path):
    # the fields `annotate export votes` writes since the task-flow merge (status, instruction_version,
    # active_seconds, flag_resolutions): read fast when plain, handed to the strict reader otherwise
    extra = ', "status": "current", "instruction_version": 1, "active_seconds": 12.5, "flag_resolutions": []}\n'
    p = tmp_path / "v.jsonl"
    p.write_text(_GOOD + _GOOD.replace("}\n", extra), encoding="utf-8")
    assert arrow_votes.read_vote_columns(p) is not None
    pd.testing.assert_frame_equal(read_votes_frame(p), _read_votes_frame_strict(p))
    for odd in (', "flag_resolutions": [{"flag": "needs_expert", "state": "open"}]}\n',
                ', "active_seconds": 1e400}\n', ', "status": 3}\n'):
        p.write_text(_GOOD + _GOOD.replace("}\n", odd), encoding="utf-8")
        assert arrow_votes.read_vote_columns(p) is None, odd
