"""FastChat's ``compute_agreement.py`` on ``annotate export votes --format fastchat``.

The export is the demo's judged study. FastChat's script (the ``fschat`` package, installed
without its dependencies by ``make venv-test``; nothing is installed at run time) computes the
human-human agreement and the agreement of a GPT-4-style judge with people, with and without
ties; ``metaeval agreement`` must give the same fractions and counts on the same files, reading
the export and the judge file in FastChat's own layout (one JSON array with ``turn``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from annotate.commands.cli import main as annotate_main
from annotate.services.judges.demo_judging import DEMO_AUDIT_STUDY
from metaeval.cli import main as metaeval_main
from metaeval.io import InputFileError

compute_agreement = pytest.importorskip(
    "fastchat.llm_judge.compute_agreement",
    reason="FastChat is not installed: `.venv/bin/pip install --no-deps fschat` (make venv-test does this)")

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture()
def export(db_url, tmp_path, monkeypatch) -> Path:
    """The demo's judged study exported in FastChat's layout."""
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "fastchat-test-password")
    assert annotate_main(["--db", db_url, "demo", "--no-serve"]) == 0
    path = tmp_path / "human_judgments.json"
    assert annotate_main(["--db", db_url, "export", "votes", "--study", DEMO_AUDIT_STUDY, str(path),
                          "--format", "fastchat"]) == 0
    return path


def _judge_file(export: Path, tmp_path: Path) -> Path:
    """A GPT-4 pair judge in FastChat's layout: one verdict per pair, chosen by a fixed hash."""
    seen, rows = set(), []
    for v in json.loads(export.read_text(encoding="utf-8")):
        key = (v["question_id"], v["model_a"], v["model_b"])
        if key in seen:
            continue
        seen.add(key)
        winner = ("model_a", "model_b", "tie")[zlib.crc32(repr(key).encode()) % 3]
        rows.append({**{k: v[k] for k in ("question_id", "model_a", "model_b", "turn")},
                     "winner": winner, "judge": ["gpt-4", "pair-v2"], "conversation_a": [], "conversation_b": []})
    path = tmp_path / "gpt4_pair_judgments.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def _fastchat(judges: list[str], files: list[Path], ban: list[str]) -> tuple[int, int]:
    """(agree, total) of turn 1 from FastChat's own functions."""
    raw = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    data = compute_agreement.get_mt_bench_votes_data(raw)
    return compute_agreement.get_mt_bench_agreement(data[0], judges[0], judges[1], ban=ban)


def test_export_is_what_fastchat_reads(export):
    rows = json.loads(export.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and rows
    # FastChat's fields, plus each vote's status, instruction version, flags with their expert
    # decisions, and design (FastChat's reader ignores other keys)
    extra = {"status", "instruction_version", "flags", "flag_resolutions", "design_round", "design_strategy", "design_expected", "design_round_votes",
             "design_last_expected"}
    assert all(set(r) == {"question_id", "model_a", "model_b", "winner", "judge", "turn"} | extra for r in rows)
    assert all(r["turn"] == 1 and compute_agreement.get_judge_name(r["judge"]) == "human" for r in rows)
    # every overall vote counts: FastChat keeps all of them (no person is dropped)
    data = compute_agreement.get_mt_bench_votes_data([rows])
    assert sum(len(v["human"]) for v in data[0].values()) == len(rows)


def test_fastchat_script_runs_on_the_export(export):
    done = subprocess.run([sys.executable, "-m", "fastchat.llm_judge.compute_agreement", "--judges", "human",
                           "human", "--votefiles", str(export)], capture_output=True, text=True, timeout=120,
                          check=False)
    # turn 2 is empty in our export, so the script's own turn-2 print divides by zero after turn 1
    agree, total = _fastchat(["human", "human"], [export], ban=[])
    assert f"turn 1 with tie. #total: {total}, #agree: {agree}," in done.stdout, done.stdout + done.stderr


def test_metaeval_agrees_with_fastchat(export, tmp_path, capsys):
    judge = _judge_file(export, tmp_path)
    rc = metaeval_main(["agreement", "--votes", str(export), "--judge", f"gpt4={judge}", "--turn", "1",
                        "--bootstrap", "1", "--format", "json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    human, row = report["human"], report["rows"][0]

    agree, total = _fastchat(["human", "human"], [export], ban=[])
    assert (human["n_vote_pairs"], human["agreement"]) == (total, pytest.approx(agree / total))
    agree, total = _fastchat(["human", "human"], [export], ban=["tie"])
    assert human["agreement_no_ties"] == pytest.approx(agree / total)

    agree, total = _fastchat(["gpt4-pair", "human"], [judge, export], ban=[])
    assert (row["n_votes"], row["agreement"]) == (total, pytest.approx(agree / total))
    agree, total = _fastchat(["gpt4-pair", "human"], [judge, export], ban=["tie"])
    assert (row["n_votes_no_ties"], row["agreement_no_ties"]) == (total, pytest.approx(agree / total))


def test_turn_is_required_for_a_file_with_two_turns(tmp_path):
    from metaeval.fastchat import read_fastchat_votes

    rows = [{"question_id": 81, "model_a": "x", "model_b": "y", "winner": "model_a", "judge": "expert_0",
             "turn": t, "conversation_a": [{"role": "user", "content": "hi"}]} for t in (1, 2)]
    path = tmp_path / "h.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"turns \[1, 2\]; choose one with --turn"):
        read_fastchat_votes(path)
    assert [v.judge for v in read_fastchat_votes(path, turn=2)] == ["expert_0"]
    rows[1]["winner"] = "model_c"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"field '\[1\]\.winner'"):
        read_fastchat_votes(path, turn=2)

