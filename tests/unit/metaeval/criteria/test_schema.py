"""Criteria schema validation, static loaders and language detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metaeval.criteria import (
    CriteriaError,
    criteria_from_checklist,
    detect_language,
    load_static_domain,
    load_static_global,
    validate_criteria,
)

FIX = Path(__file__).resolve().parents[3] / "fixtures"
BANDS = ("1-2", "3-4", "5-6", "7-8", "9-10")


def _crit(name: str) -> dict:
    return {"name": name, "criteria_description": "desc", **{b: f"band {b}" for b in BANDS}}


def test_valid_set_becomes_criteria_in_order():
    crits = validate_criteria([_crit(f"C{i}") for i in range(5)])
    assert [c.name for c in crits] == ["C0", "C1", "C2", "C3", "C4"]
    assert crits[2].bands["7-8"] == "band 7-8"
    assert crits[0].to_checklist() == _crit("C0")


def test_object_with_criteria_key_is_accepted():
    assert len(validate_criteria({"criteria": [_crit(f"C{i}") for i in range(5)]})) == 5


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s[:4], "(top level)"),                      # four criteria
    (lambda s: s + [_crit("C9")], "(top level)"),          # six criteria
    (lambda s: [dict(s[0], **{"9-10": ""})] + s[1:], "0/9-10"),  # empty band
    (lambda s: [s[0], {k: v for k, v in s[1].items() if k != "5-6"}] + s[2:], "1"),  # missing band
    (lambda s: [dict(s[0], name=7)] + s[1:], "0/name"),   # wrong type
])
def test_invalid_sets_name_the_field(mutate, expected):
    with pytest.raises(CriteriaError) as info:
        validate_criteria(mutate([_crit(f"C{i}") for i in range(5)]), where="gen.json")
    assert "gen.json" in str(info.value)
    assert f"field {expected}" in str(info.value)


def test_duplicate_names_rejected():
    with pytest.raises(CriteriaError, match="distinct"):
        validate_criteria([_crit("Same")] * 5)


def test_static_loaders_read_both_languages_and_domains():
    g = FIX / "judge_static_global.json"
    d = FIX / "judge_static_domain.json"
    assert [c.name for c in load_static_global("en", path=g)][0] == "Task fulfilment"
    assert load_static_global("zh", path=g)[0].name == "任务完成度"
    assert load_static_domain("Education", "zh", path=d)[4].name == "Education 中4"
    with pytest.raises(CriteriaError, match="no criteria for domain 'Poetry'"):
        load_static_domain("Poetry", "en", path=d)
    with pytest.raises(CriteriaError, match="unknown language"):
        load_static_global("fr", path=g)


def test_static_loader_reports_bad_file(tmp_path):
    bad = tmp_path / "g.json"
    bad.write_text('{"en": [], ', encoding="utf-8")
    with pytest.raises(CriteriaError, match=r"g.json: line 1: invalid JSON"):
        load_static_global("en", path=bad)
    missing_zh = tmp_path / "g2.json"
    missing_zh.write_text(json.dumps({"en": [_crit(f"C{i}") for i in range(5)]}), encoding="utf-8")
    with pytest.raises(CriteriaError, match="field zh: missing language"):
        load_static_global("en", path=missing_zh)


def test_dynamic_criteria_come_from_the_checklist():
    q = {"index": 5, "query": "x", "checklist": [_crit(f"K{i}") for i in range(5)]}
    assert [c.name for c in criteria_from_checklist(q)][-1] == "K4"
    with pytest.raises(CriteriaError, match="query 5: field checklist: missing"):
        criteria_from_checklist({"index": 5, "query": "x"})


@pytest.mark.parametrize("text, lang", [
    ("Write a product description for a bamboo toothbrush.", "en"),
    ("请写一篇关于人工智能的议论文", "zh"),
    # mostly Chinese with an English term: still Chinese
    ("帮我写一份 Python 编程课程的教学大纲，面向大学一年级学生", "zh"),
    # long English with one Chinese name: English (2 CJK chars * 5 = 10 of ~300 letters)
    ("Write a biography of the painter Qi Baishi (齐白) covering his early life, his move to Beijing, "
     "his friendship with other artists and the later recognition of his shrimp paintings worldwide.", "en"),
])
def test_language_detection(text, lang):
    assert detect_language(text) == lang


@pytest.mark.shared
def test_every_writingbench_checklist_validates(shared_data_dir):
    count = 0
    with open(shared_data_dir / "benchmark_all.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            assert len(criteria_from_checklist(q)) == 5
            count += 1
    assert count == 1000


@pytest.mark.shared
def test_language_split_matches_the_published_counts(shared_data_dir):
    # WritingBench paper, section 3: 443 Chinese and 557 English queries.
    lines = (shared_data_dir / "benchmark_all.jsonl").read_text(encoding="utf-8").splitlines()
    langs = [detect_language(json.loads(line)["query"]) for line in lines]
    assert (langs.count("zh"), langs.count("en")) == (443, 557)


@pytest.mark.shared
def test_every_writingbench_query_gets_five_criteria_under_each_method(shared_data_dir):
    from metaeval.criteria.static import DATA_DIR, DOMAIN_FILE, GLOBAL_FILE
    from metaeval.judges.pipeline import METHODS, criteria_for

    if not ((DATA_DIR / GLOBAL_FILE).is_file() and (DATA_DIR / DOMAIN_FILE).is_file()):
        pytest.skip("static criteria files not in metaeval/data/criteria yet")
    lines = (shared_data_dir / "benchmark_all.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        q = json.loads(line)
        for method in METHODS:
            assert len(criteria_for(q, method)) == 5, (q["index"], method)
