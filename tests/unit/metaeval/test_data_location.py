"""WRITINGBENCH_DATA names the folder with WritingBench's files; unset, ../shared beside the checkout."""

from __future__ import annotations

from metaeval.data_location import ENV, writingbench_data_dir


def test_variable_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "wb"))
    assert writingbench_data_dir("/anywhere") == tmp_path / "wb"


def test_default_is_beside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "repo").mkdir()
    assert writingbench_data_dir(tmp_path / "repo") == tmp_path / "shared" / "data" / "writingbench"
