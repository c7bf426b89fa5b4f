"""The in-process ``local:`` judge (SmolLM2 via llama-cpp-python) answers valid verdicts on the demo.

Its output is constrained by the score schema (a grammar, with a length bound on ``reason``), so
the tiny model cannot ramble past ``max_tokens``: at least 95% of the scoring tasks must come
back valid. The tasks: one response for each of four demo queries (the first two English and the
first two Chinese ones), five static-global criteria each: 20 tasks, of which at least 19 must be
valid (95%). Four queries keep the test to a few minutes of CI on 2 CPUs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from metaeval.cli import main

pytestmark = [pytest.mark.llm, pytest.mark.slow]
DEMO = Path(__file__).resolve().parents[4] / "annotate" / "data" / "demo"


def test_smollm2_scores_at_least_95_percent_of_demo_tasks(tmp_path, capsys):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'writingjudge[local]')")
    from metaeval.judges.local_gguf import default_model_path

    try:
        default_model_path()
    except Exception as exc:  # noqa: BLE001 - no model file: nothing to test
        pytest.skip(str(exc))
    first: dict[int, str] = {}
    for line in (DEMO / "responses.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        first.setdefault(row["index"], line)
    assert len(first) == 15
    queries = [json.loads(line) for line in (DEMO / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    chinese = [q["index"] for q in queries if any("\u4e00" <= ch <= "\u9fff" for ch in q["query"])]
    english = [q["index"] for q in queries if q["index"] not in chinese]
    chosen = english[:2] + chinese[:2]
    assert len(chosen) == 4
    responses = tmp_path / "responses.jsonl"
    responses.write_text("\n".join(first[i] for i in chosen) + "\n", encoding="utf-8")

    rc = main(["judge", "--method", "static-global", "--judge", "smoke=local:", "--queries",
               str(DEMO / "queries.jsonl"), "--responses", str(responses), "--output", str(tmp_path / "out"),
               "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    tasks = summary["n_scores"] + summary["n_failures"]
    assert tasks == 20
    assert summary["n_scores"] / tasks >= 0.95, Path(summary["failures"]).read_text(encoding="utf-8")[:2000]
