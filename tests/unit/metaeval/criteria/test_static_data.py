"""Checks on the static criteria sets in metaeval/data/criteria (static global and static domain-specific).

Expected counts come from WritingBench's design, not from the files: every set has
five criteria per language, there are six domain1 values, so 5 + 6 x 5 = 35 criteria per language.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

CRITERIA_DIR = Path(__file__).resolve().parents[4] / "metaeval" / "data" / "criteria"
GLOBAL_FILE = CRITERIA_DIR / "static_global.json"
DOMAIN_FILE = CRITERIA_DIR / "static_domain.json"

# WritingBench's checklist layout for one criterion.
FIELDS = ("name", "criteria_description", "1-2", "3-4", "5-6", "7-8", "9-10")
BANDS = FIELDS[2:]
LANGS = ("en", "zh")

# The six domain1 values, typed from the WritingBench paper's domain list (not from our file).
EXPECTED_DOMAINS = {
    "Academic & Engineering",
    "Finance & Business",
    "Politics & Law",
    "Literature & Arts",
    "Education",
    "Advertising & Marketing",
}

# CJK ideographs; CJK punctuation and full-width forms are also forbidden in English text.
CJK_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK_ANY = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook that refuses duplicate keys (json.load would silently keep the last)."""
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"duplicate keys: {dupes}")
    return dict(pairs)


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh, object_pairs_hook=_no_duplicate_keys)


def _all_sets() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(set label, language, criteria list) for every set in both files."""
    out = [("global", lang, crits) for lang, crits in _load(GLOBAL_FILE).items()]
    for domain, by_lang in _load(DOMAIN_FILE).items():
        out.extend((domain, lang, crits) for lang, crits in by_lang.items())
    return out


def test_files_parse_as_json_objects_without_duplicate_keys() -> None:
    for path in (GLOBAL_FILE, DOMAIN_FILE):
        assert isinstance(_load(path), dict), path


def test_global_has_five_criteria_per_language() -> None:
    data = _load(GLOBAL_FILE)
    assert set(data) == set(LANGS)
    for lang in LANGS:
        assert isinstance(data[lang], list)
        assert len(data[lang]) == 5, lang


def test_domain_file_has_exactly_the_six_writingbench_domains() -> None:
    assert set(_load(DOMAIN_FILE)) == EXPECTED_DOMAINS


@pytest.mark.shared
def test_domain_names_match_shared_writingbench_data(shared_data_dir: Path) -> None:
    seen: set[str] = set()
    with (shared_data_dir / "benchmark_all.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                seen.add(json.loads(line)["domain1"])
    assert set(_load(DOMAIN_FILE)) == seen


def test_each_domain_has_five_criteria_per_language() -> None:
    for domain, by_lang in _load(DOMAIN_FILE).items():
        assert set(by_lang) == set(LANGS), domain
        for lang in LANGS:
            assert len(by_lang[lang]) == 5, (domain, lang)


def test_thirty_five_criteria_per_language_in_total() -> None:
    # 5 global + 6 domains x 5 = 35
    for lang in LANGS:
        assert sum(len(c) for _, lg, c in _all_sets() if lg == lang) == 35, lang


def test_every_criterion_has_exactly_the_seven_fields_as_nonempty_strings() -> None:
    for label, lang, crits in _all_sets():
        for i, crit in enumerate(crits):
            where = f"{label}/{lang}[{i}]"
            assert isinstance(crit, dict), where
            assert set(crit) == set(FIELDS), where
            for field in FIELDS:
                value = crit[field]
                assert isinstance(value, str), (where, field)
                assert value.strip(), (where, field)


def test_names_unique_within_each_set() -> None:
    for label, lang, crits in _all_sets():
        names = [c["name"].strip().casefold() for c in crits]
        assert len(set(names)) == len(names), (label, lang, names)


def test_score_bands_differ_within_each_criterion() -> None:
    for label, lang, crits in _all_sets():
        for crit in crits:
            bands = [crit[b].strip() for b in BANDS]
            assert len(set(bands)) == len(BANDS), (label, lang, crit["name"])


def test_zh_texts_contain_cjk_and_en_texts_none() -> None:
    for label, lang, crits in _all_sets():
        for crit in crits:
            for field in FIELDS:
                text = crit[field]
                where = (label, lang, crit["name"], field)
                if lang == "zh":
                    assert CJK_IDEOGRAPH.search(text), where
                else:
                    assert not CJK_ANY.search(text), where


def test_cjk_pattern_itself_discriminates() -> None:
    # Guard for the test above: the patterns must tell the two languages apart.
    assert CJK_IDEOGRAPH.search("结构与连贯性")
    assert not CJK_ANY.search("Structure and Coherence - plain ASCII, with 'quotes'.")
    assert CJK_ANY.search("full-width comma，here")
