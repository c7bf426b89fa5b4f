"""``metaeval criteria show`` lists and shows every registered criteria method."""

from __future__ import annotations

import json

from metaeval.cli import main
from metaeval.criteria.methods import _REGISTRY, FlatMethod, register_method
from metaeval.types import Criterion


def _show(capsys, *argv: str) -> object:
    assert main(["criteria", "show", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_names_every_registered_method(capsys):
    listed = _show(capsys, "--list")
    # the four built-in methods, in registration order
    assert [m["name"] for m in listed] == ["static-global", "static-domain", "dynamic", "tow"]
    assert {m["name"]: m["negotiated"] for m in listed}["tow"] is True
    assert _show(capsys) == listed  # no --method: the same list


def test_tow_tree_has_three_nodes_and_eight_leaves(capsys):
    shown = _show(capsys, "--method", "tow")
    # tow tree: content (4 LLM 1-10 leaves), format (2 step leaves + 1 rule), impression (1 LLM leaf)
    assert [(n["node"], [(x["name"], x["scorer"]) for x in n["leaves"]]) for n in shown["nodes"]] == [
        ("content", [("content/coherence", "llm"), ("content/logic", "llm"), ("content/richness", "llm"),
                     ("content/opening-ending", "llm")]),
        ("format", [("format/structure", "llm-step"), ("format/paragraphing", "llm-step"),
                    ("format/formatting", "rule")]),
        ("impression", [("impression", "llm")])]
    assert all(x["description"] for n in shown["nodes"] for x in n["leaves"])


def test_tow_for_a_poem_drops_format_and_dynamic_shows_the_checklist(tmp_path, capsys):
    crit = {"name": "Imagery", "criteria_description": "Vivid images", "1-2": "a", "3-4": "b", "5-6": "c",
            "7-8": "d", "9-10": "e"}
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"index": 7, "domain1": "Literature & Arts", "domain2": "Poetry", "query": "A poem",
                             "checklist": [{**crit, "name": f"Imagery {k}"} for k in range(5)]}) + "\n")
    shown = _show(capsys, "--method", "tow", "--queries", str(q), "--index", "7")
    assert [n["node"] for n in shown["nodes"]] == ["content", "impression"] and shown["query"] == 7
    dyn = _show(capsys, "--method", "dynamic", "--queries", str(q))
    assert [x["name"] for x in dyn["nodes"][0]["leaves"]] == [f"Imagery {k}" for k in range(5)]
    assert dyn["nodes"][0]["leaves"][0]["bands"]["9-10"] == "e"


def test_dynamic_without_queries_is_a_one_line_error(capsys):
    assert main(["criteria", "show", "--method", "dynamic"]) == 2
    assert "pass --queries FILE" in capsys.readouterr().err


def test_a_newly_registered_method_is_listed_and_shown(capsys, monkeypatch):
    monkeypatch.setitem(_REGISTRY, "two-crit", FlatMethod(
        "two-crit", "two fixed criteria",
        lambda q, o, w: [Criterion("A", "first", {}), Criterion("B", "second", {})]))
    assert "two-crit" in [m["name"] for m in _show(capsys, "--list")]
    shown = _show(capsys, "--method", "two-crit")
    assert [x["name"] for x in shown["nodes"][0]["leaves"]] == ["A", "B"]
    assert register_method  # the public way; setitem keeps the registry clean after the test
