"""Criteria comparison reads requirements from the instruction only, and a criterion that says it
checks length and format covers those requirements."""

from __future__ import annotations

import json
from pathlib import Path

from annotate.services.content.requirements import coverage, requirements
from metaeval.criteria import load_static_global

DEMO = Path(__file__).resolve().parents[4] / "annotate" / "data" / "demo" / "queries.jsonl"


def _query(index: int) -> str:
    for line in DEMO.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["index"] == index:
            return q["query"]
    raise KeyError(index)


def test_reference_material_lines_are_not_requirements():
    text = _query(900001)
    # The instruction is the first paragraph (read by hand): a request, the length/person/content
    # constraints, and the bullet/paragraph constraint split at its semicolon. Everything after
    # "Reference material:" (budget figures, the team, the town's population) is material.
    got = [r.text for r in requirements(text)]
    assert got == [
        "Please write the project abstract for our grant application to a regional water research fund.",
        "The abstract must be no longer than 250 words, written in the third person, and must mention the "
        "budget and duration.",
        "Avoid bullet points;",
        "it should be a single paragraph.",
    ]


def test_static_global_first_criterion_covers_length_and_format():
    reqs = requirements(_query(900001))
    first = load_static_global("en")[0]  # "respect every explicit constraint on topic, length, format, ..."
    cov = coverage(reqs, [(first.name, first.description)])
    # the length (250 words, third person), bullet-point and single-paragraph requirements
    assert [bool(c) for c in cov] == [False, True, True, True]
