"""Checks on annotate/data/taxonomy.json: its shape, and that it names exactly WritingBench's subdomains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TAXONOMY_PATH = Path(__file__).resolve().parents[4] / "annotate" / "data" / "taxonomy.json"


def _load() -> dict:
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


def _pairs(taxonomy: dict) -> set[tuple[str, str]]:
    return {(d["name"], s["name"]) for d in taxonomy["domains"] for s in d["subdomains"]}


def test_taxonomy_shape_six_domains_hundred_subdomains() -> None:
    taxonomy = _load()
    domains = taxonomy["domains"]
    # WritingBench (paper, section 3): 6 primary domains, 100 subdomains.
    assert len(domains) == 6
    assert len({d["name"] for d in domains}) == 6
    sub_names = [s["name"] for d in domains for s in d["subdomains"]]
    assert len(sub_names) == 100
    assert len(set(sub_names)) == 100, "a subdomain name appears under two domains or twice"


def test_taxonomy_every_entry_has_chinese_name_and_one_line_description() -> None:
    taxonomy = _load()
    entries = list(taxonomy["domains"])
    entries += [s for d in taxonomy["domains"] for s in d["subdomains"]]
    assert len(entries) == 106
    for entry in entries:
        label = entry["name"]
        assert set(entry) >= {"name", "name_zh", "description"}, label
        assert entry["name_zh"].strip(), f"{label}: empty name_zh"
        # name_zh must actually be Chinese: at least one CJK unified ideograph.
        assert any("\u4e00" <= ch <= "\u9fff" for ch in entry["name_zh"]), f"{label}: name_zh not Chinese"
        desc = entry["description"]
        assert desc.strip(), f"{label}: empty description"
        assert "\n" not in desc and "\r" not in desc, f"{label}: description spans lines"
        assert desc == desc.strip(), f"{label}: description has surrounding whitespace"


def test_taxonomy_chinese_names_are_unique() -> None:
    taxonomy = _load()
    zh = [s["name_zh"] for d in taxonomy["domains"] for s in d["subdomains"]]
    assert len(set(zh)) == len(zh)


@pytest.mark.shared
def test_taxonomy_pairs_equal_writingbench_pairs(shared_data_dir: Path) -> None:
    expected: set[tuple[str, str]] = set()
    with (shared_data_dir / "benchmark_all.jsonl").open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                expected.add((row["domain1"], row["domain2"]))
    # The paper reports 100 subdomains; guard against a truncated shared file.
    assert len(expected) == 100
    actual = _pairs(_load())
    assert actual - expected == set(), "pairs in taxonomy.json but not in WritingBench"
    assert expected - actual == set(), "pairs in WritingBench but missing from taxonomy.json"
