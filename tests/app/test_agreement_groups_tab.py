"""Agreement page: the *WEval groups* tab -- a scored groups file uploaded by the
researcher, reported beside Table 4 with the numbers of ``metaeval agreement --groups``.

Hand case (as tests/unit/metaeval/report/test_groups_section.py): C = 3, kept 3/2/1; scores 9/7/4
(tau 1, tau-b 1, position 1, exact 1), 5/5/5 (WEval's rule: tau 1, position 1, exact 1; tau-b 0)
and 2/6/8 (tau -1, tau-b -1, position 1/3, exact 0) -> means 0.333, 0.000, 0.778, 0.667.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from annotate.db.engine import init_db
from tests.fixtures.apptest import page_direct, shown
from tests.fixtures.audit_seed import seed_audit

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def write_scored(path, method="tow", judge="j", scores=((9, 7, 4), (5, 5, 5), (2, 6, 8))):
    lines = []
    for group, trio in enumerate(scores):
        for i, (score, kept) in enumerate(zip(trio, (3, 2, 1), strict=True)):
            lines.append({"prompt": "p", "chosen": "r", "constraint": ["x", "y", "z"],
                          "instruction_id_list": list(range(kept)), "group": group, "index": i, "score": score,
                          "judge": judge, "method": method})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _tab_script():
    import os
    from pathlib import Path

    from streamlit.delta_generator import DeltaGenerator

    from annotate.db.models import User
    from annotate.ui.judges import agreement_tabs

    class _Upload:
        def __init__(self, path: str) -> None:
            self.name, self._path = Path(path).name, Path(path)

        def getvalue(self) -> bytes:
            return self._path.read_bytes()

    paths = [p for p in os.environ.get("GROUPS_TEST_FILES", "").split(os.pathsep) if p]
    original = DeltaGenerator.file_uploader
    DeltaGenerator.file_uploader = lambda self, *a, **k: [_Upload(p) for p in paths]  # what a browser upload gives
    try:
        agreement_tabs.groups_tab(User(username="res", role="researcher"), 200, 0)
    finally:
        DeltaGenerator.file_uploader = original


def _run_tab(monkeypatch, *paths) -> AppTest:
    monkeypatch.setenv("GROUPS_TEST_FILES", os.pathsep.join(str(p) for p in paths))
    at = AppTest.from_function(_tab_script, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_page_has_the_tab_beside_table4(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    engine = init_db(url)
    ids = seed_audit(engine)
    engine.dispose()
    monkeypatch.setenv("ANNOTATE_DB_URL", url)
    at = page_direct(ids["res"], "judges/agreement.py", timeout=120)
    assert not at.exception, at.exception
    labels = [t.label for t in at.tabs]
    assert "WEval groups" in labels and labels.index("WEval groups") < labels.index("Rankings")
    assert any("No groups file yet" in i.value for i in at.info)


def test_uploaded_file_shows_the_four_figures_with_intervals(tmp_path, monkeypatch):
    at = _run_tab(monkeypatch, write_scored(tmp_path / "scored_3c.jsonl"))
    table = next(d.value for d in at.dataframe if "Kendall tau-b (ties kept)" in d.value.columns)
    row = table.iloc[0]
    assert (row["Judge"], row["Groups"], row["C"]) == ("tow/j", "3", "3")
    assert row["Kendall tau (WEval ties)"].startswith("0.333 [")
    assert row["Kendall tau-b (ties kept)"].startswith("0.000 [")
    assert row["Position consistency"].startswith("0.778 [")
    assert row["Exact match"].startswith("0.667 [")
    assert any("judge's favour" in shown(c.value) for c in at.caption)  # says which tau is which


def test_two_files_are_compared(tmp_path, monkeypatch):
    a = write_scored(tmp_path / "a_3c.jsonl")
    b = write_scored(tmp_path / "b_3c.jsonl", method="dynamic", scores=((9, 7, 4), (9, 7, 4), (9, 7, 4)))
    at = _run_tab(monkeypatch, a, b)
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "Exact match" in f.columns)
    assert list(table["Judge"]) == ["tow/j", "dynamic/j"]
    cmp = next(f for f in frames if "p (Holm)" in f.columns)
    # b orders every group right: exact match 1 vs 2/3 -> difference -1/3 on the exact-match row
    assert cmp[cmp["Metric"] == "exact_match"]["Difference"].iloc[0] == "-0.333"
    assert isinstance(cmp, pd.DataFrame)


def test_bad_file_gets_a_located_warning_naming_the_upload(tmp_path, monkeypatch):
    good = write_scored(tmp_path / "scored_3c.jsonl")
    bad = tmp_path / "broken_3c.jsonl"
    lines = good.read_text().splitlines()
    obj = json.loads(lines[4])
    del obj["score"]
    lines[4] = json.dumps(obj)
    bad.write_text("\n".join(lines) + "\n")
    at = _run_tab(monkeypatch, bad)
    text = " ".join(shown(w.value) for w in at.warning)
    assert "broken_3c.jsonl, line 5: field score: missing" in text
    assert not [d for d in at.dataframe]


def test_same_judge_twice_is_told_apart_by_file_name(tmp_path, monkeypatch):
    a = write_scored(tmp_path / "first_3c.jsonl")
    b = write_scored(tmp_path / "second_3c.jsonl")
    at = _run_tab(monkeypatch, a, b)
    table = next(d.value for d in at.dataframe if "Exact match" in d.value.columns)
    assert list(table["Judge"]) == ["tow/j", "tow/j (second_3c.jsonl)"]
