"""The CLI: ``annotate init``, ``import queries|responses``, ``export queries``; errors are one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.commands.cli import main
from tests.fixtures.writingbench_samples import sample_records, write_jsonl


def test_init_import_export_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATE_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")  # used when --db is absent
    assert main(["init"]) == 0
    assert "6 domains, 100 subdomains" in capsys.readouterr().out
    queries = write_jsonl(tmp_path / "q.jsonl", sample_records())
    assert main(["import", "queries", str(queries)]) == 0
    assert "3 inserted, 0 unchanged" in capsys.readouterr().out
    assert main(["import", "queries", str(queries)]) == 0
    assert "0 inserted, 3 unchanged" in capsys.readouterr().out
    responses = write_jsonl(tmp_path / "r.jsonl", [{"index": 900101, "response": "text"}])
    assert main(["import", "responses", str(responses), "--model", "m1"]) == 0
    assert "new models: m1" in capsys.readouterr().out
    out = tmp_path / "out.jsonl"
    assert main(["export", "queries", str(out)]) == 0
    assert out.read_bytes() == queries.read_bytes()
    assert (tmp_path / "env.db").is_file()


def test_bad_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    rec = sample_records()[0]
    rec["domain2"] = "Abstracts"
    path = write_jsonl(tmp_path / "bad.jsonl", [rec])
    assert main(["--db", db, "import", "queries", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"annotate: error: {path}, line 1, field domain2: unknown subdomain")
    assert "'Abstract'" in err[-1]
    assert main(["--db", db, "import", "responses", str(tmp_path / "missing.jsonl"), "--model", "m"]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
