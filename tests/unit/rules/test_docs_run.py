"""Every ```bash block of README.md and docs/*.md runs as written.

Each document's blocks run in order in one ``bash -e`` process, in a temporary folder laid out like
a checkout (``annotate/data/demo`` is there) with the files the examples name (the demo's queries
and responses under the names the docs use), ``$HOME/data/writingbench/benchmark_all.jsonl``
(the demo queries), ``annotate``/``metaeval`` on ``PATH``, and a loopback scripted judge
(tests/fixtures/judge_fake_openai_server.py) standing in for every model: ``OPENAI_BASE_URL`` and
``ANTHROPIC_BASE_URL`` point at it and the documented ``http://127.0.0.1:8000/v1`` is rewritten to
its address. ``annotate serve`` is replaced by a stub that fills open tasks with simulated votes
(tests/fixtures/docs_serve_stub.py), since nobody can vote in a test.

A block that cannot run here (it installs packages, starts a server that runs until stopped, or
needs a build tool) is marked by the line ``<!-- docs-test: skip (reason) -->`` just above its fence
and must be listed in :data:`SKIPPED`, so the list stays short and visible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "annotate" / "data" / "demo"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(bash|sh)\s*$")
SKIP_MARK = "<!-- docs-test: skip"
# (document, start of the block's first line): the blocks that are not run; the reason is in the doc
SKIPPED = {
    ("README.md", "make demo"),                    # builds a virtual environment and starts the app
    ("README.md", "metaeval judge --method static-global --judge smoke=local:"),  # SmolLM2: minutes on a CPU
    ("docs/judging.md", "metaeval judge --method dynamic --judge local:"),         # the same
    ("README.md", "metaeval generate --queries annotate/data/demo/queries.jsonl --model smol=local:"),  # the same
    ("docs/deployment.md", "annotate --db sqlite:////srv"),  # writes under /srv and serves
    ("docs/deployment.md", "pip install -e '.[postgres]'"),  # installs packages, needs a PostgreSQL server
    ("docs/deployment.md", "pip install vllm"),    # installs vLLM and serves a model on a GPU
}


def blocks(path: Path) -> list[tuple[int, str, bool]]:
    """(line of the opening fence, text, skipped) for each ```bash / ```sh block of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        if FENCE.match(lines[i].strip()):
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            skipped = start > 0 and lines[start - 1].strip().startswith(SKIP_MARK)
            out.append((start + 1, "\n".join(lines[start + 1:j]), skipped))
            i = j + 1
        else:
            i += 1
    return out


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_skipped_blocks_are_the_listed_few():
    found = [(_rel(p), text.strip().splitlines()[0]) for p in DOCS for _line, text, skipped in blocks(p) if skipped]
    assert len(found) == len(SKIPPED), found
    for doc, first in found:
        assert any(doc == d and first.startswith(start) for d, start in SKIPPED), (doc, first)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _folder(tmp: Path) -> None:
    """The files the documented commands name, made from the demo project."""
    (tmp / "annotate" / "data").mkdir(parents=True)
    (tmp / "annotate" / "data" / "demo").symlink_to(DEMO)
    queries = DEMO / "queries.jsonl"
    responses = _lines(DEMO / "responses.jsonl")
    for name in ("q.jsonl", "queries.jsonl", "benchmark_all.jsonl"):
        shutil.copy(queries, tmp / name)
    (tmp / "home" / "data" / "writingbench").mkdir(parents=True)
    shutil.copy(queries, tmp / "home" / "data" / "writingbench" / "benchmark_all.jsonl")

    def of(model: str, keep_model: bool) -> list[dict]:
        return [{"index": r["index"], **({"model": r["model"]} if keep_model else {}), "response": r["response"]}
                for r in responses if r["model"] == model]

    _write(tmp / "gpt.jsonl", of("demo-alpha", False))
    _write(tmp / "claude.jsonl", of("demo-beta", False))
    _write(tmp / "model1.jsonl", of("demo-alpha", False))
    _write(tmp / "model2.jsonl", of("demo-gamma", False))
    _write(tmp / "all_models.jsonl", of("demo-beta", True) + of("demo-gamma", True))
    _write(tmp / "responses.jsonl", responses)
    _write(tmp / "r.jsonl", [r for r in responses if r["index"] in (900001, 900002)])
    (tmp / "responses").mkdir()
    for model in ("demo-alpha", "demo-beta"):
        _write(tmp / "responses" / f"{model}.jsonl", of(model, True))

    # Votes and judge scores for the statistics examples: the demo's alpha and beta, named as the docs
    # name them (gpt-4o and claude), with two people whose choices follow a fixed hash.
    rename = {"demo-alpha": "gpt-4o", "demo-beta": "claude"}
    both = sorted({r["index"] for r in responses if r["model"] == "demo-alpha"}
                  & {r["index"] for r in responses if r["model"] == "demo-beta"})
    votes = [{"question_id": q, "model_a": "claude", "model_b": "gpt-4o", "judge": person,
              "winner": ("model_a", "model_b", "tie")[zlib.crc32(f"{q}{person}".encode()) % 3]}
             for q in both for person in ("ann1", "ann2")]
    for name in ("human.jsonl", "study_votes.jsonl"):
        _write(tmp / name, [{**v, "model_a": "demo-beta", "model_b": "demo-alpha"} for v in votes]
               if name == "study_votes.jsonl" else votes)

    def scores(run: str) -> list[dict]:
        return [{**r, "model": rename[r["model"]]} for r in _lines(DEMO / "scores" / f"{run}.jsonl")
                if r["model"] in rename]

    _write(tmp / "dyn_gpt.jsonl", scores("dynamic__demo-judge"))
    _write(tmp / "sg_gpt.jsonl", scores("static-global__demo-judge"))
    critic: dict[str, dict[int, dict[str, list]]] = {}
    for r in scores("dynamic__demo-critic"):
        critic.setdefault(r["model"], {}).setdefault(r["index"], {})[r["criterion"]] = [
            {"score": r["score"], "reason": r["reason"]}]
    for model, by_index in critic.items():
        _write(tmp / "critic_scores" / f"{model}.jsonl",
               [{"index": i, "scores": sc} for i, sc in sorted(by_index.items())])
    judge_long = scores("static-global__demo-judge")
    _write(tmp / "judge_scores_long.jsonl", judge_long)
    _write(tmp / "hanna_ratings.jsonl", [
        {"item_id": r["index"], "system": r["model"], "rater": "r1", "criterion": r["criterion"],
         "score": min(10, max(1, r["score"] + zlib.crc32(repr(r).encode()) % 3 - 1))} for r in judge_long])


def _bin(tmp: Path) -> Path:
    bindir = tmp / "bin"
    bindir.mkdir()
    py = sys.executable
    (bindir / "metaeval").write_text(f'#!/bin/sh\nexec "{py}" -P -m metaeval.cli "$@"\n')
    serve = f'for a in "$@"; do [ "$a" = serve ] && exec "{py}" -P -m tests.fixtures.docs_serve_stub "$@"; done'
    (bindir / "annotate").write_text(f'#!/bin/sh\n{serve}\nexec "{py}" -P -m annotate.commands.cli "$@"\n')
    (bindir / "python").symlink_to(py)
    for f in bindir.iterdir():
        f.chmod(0o755)
    return bindir


@pytest.fixture(scope="module")
def server():
    srv = FakeJudgeServer().start()
    yield srv
    srv.shutdown()
    srv.server_close()


RUNNABLE = [p for p in DOCS if any(not s for _l, _t, s in blocks(p))]


@pytest.mark.parametrize("doc", RUNNABLE, ids=[_rel(p) for p in RUNNABLE])
def test_documented_commands_run(doc: Path, tmp_path: Path, server):
    _folder(tmp_path)
    bindir = _bin(tmp_path)
    script = ["set -e -o pipefail", 'trap \'echo "docs test: failed in $__block" >&2\' ERR']
    for line, text, skipped in blocks(doc):
        if skipped:
            continue
        text = text.replace("http://127.0.0.1:8000/v1", server.base_url)
        script += [f"__block='{_rel(doc)}:{line}'", text]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ANNOTATE_", "OPENAI_", "ANTHROPIC_"))},
           "PATH": f"{bindir}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(ROOT), "WRITINGBENCH_DATA": str(tmp_path / "home" / "data" / "writingbench"),
           "OPENAI_BASE_URL": server.base_url, "ANTHROPIC_BASE_URL": server.base_url.removesuffix("/v1"),
           "OPENAI_API_KEY": "loopback", "ANTHROPIC_API_KEY": "loopback", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{done.stderr[-4000:]}\n--- stdout ---\n{done.stdout[-2000:]}"
