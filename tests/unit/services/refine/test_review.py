"""Expert review rules on the demo queries: a rejection needs a reason, segments left out at
collection are not pruning, material history names the verifier, and the query list the pickers
use covers every query with its taxonomy and status (on the demo, and on the real WritingBench
file when it is there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.db.models import InstructionVersion, MaterialVersion, Query
from annotate.services.core.errors import InputError
from annotate.services.refine import instructions, materials, pruning, review
from annotate.services.refine.history import query_history
from annotate.services.refine.query_list import first_words, query_choices
from annotate.services.refine.versions import COLLECTION_EXCLUDED, collection_excluded
from tests.unit.services.refine.refine_helpers import DEMO_QUERIES, build_template, copy_database, users

MATERIAL = "Rivers carry silt.\n\nBuy our filters today!\n\nCities clean their rivers.\n\nA fourth note."


@pytest.fixture(scope="module", params=["demo", pytest.param("real", marks=pytest.mark.shared)])
def bench_file(request: pytest.FixtureRequest) -> Path:
    """The query file: the demo's, and WritingBench's real one (skipped when it is not there)."""
    if request.param == "demo":
        return DEMO_QUERIES
    return request.getfixturevalue("shared_data_dir") / "benchmark_all.jsonl"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("review_rules_demo_tpl"), DEMO_QUERIES)


@pytest.fixture()
def demo_session(demo_template: Path, tmp_path: Path):
    engine = copy_database(demo_template, tmp_path)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def _first_query(session: Session) -> Query:
    return session.exec(select(Query).order_by(Query.index)).first()


def test_a_rejection_without_a_reason_is_refused_and_nothing_is_written(demo_session: Session) -> None:
    session = demo_session
    people = users(session)
    query = _first_query(session)
    v2 = instructions.propose_instruction(session=session, actor=people["exp1"], query_id=query.id,
                                   text=query.original_text + "\n(800 words)", reason="length", base_version_no=1)
    for note in ("", "   "):
        with pytest.raises(InputError, match="say why you reject"):
            review.review_edit(session=session, actor=people["exp2"], kind="instruction", version_id=v2.id,
                              approve=False, note=note)
    session.expire_all()
    assert session.get(InstructionVersion, v2.id).status == "pending"
    review.review_edit(session=session, actor=people["exp2"], kind="instruction", version_id=v2.id,
                      approve=False, note="the materials give no length")
    history = query_history(session=session, query_id=query.id)
    assert [(e.version_no, e.status, e.review_note) for e in history if e.version_no == 2] == [
        (2, "rejected", "the materials give no length")]


def test_segments_left_out_at_collection_are_not_pruning(demo_session: Session) -> None:
    session = demo_session
    people = users(session)
    query = _first_query(session)
    # the collector keeps segments 0, 2, 3 and leaves out 1 (the advert)
    doc = materials.add_material(session=session, actor=people["ann1"], query_id=query.id, title="Rivers",
                                 text=MATERIAL, source_url="https://example.org", license_note="CC BY 4.0",
                                 kept=[0, 2, 3])
    materials.verify_material(session=session, actor=people["exp2"], document_id=doc.id)
    assert collection_excluded(session=session, document_id=doc.id) == {1}
    # a reason is needed for what the expert removes, never a silent default
    with pytest.raises(InputError, match="segment 4: say why"):
        pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=[0, 2],
                              removals={1: COLLECTION_EXCLUDED, 3: ""}, base_version_no=1)
    # the collection marker is only accepted for a segment its collector left out
    with pytest.raises(InputError, match="segment 4: the reason must be one of"):
        pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=[0, 2],
                              removals={1: COLLECTION_EXCLUDED, 3: COLLECTION_EXCLUDED}, base_version_no=1)
    v2 = pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=[0, 2],
                               removals={1: COLLECTION_EXCLUDED, 3: "redundant"}, base_version_no=1)
    assert v2.reason == "removed 1 redundant"  # the left-out segment is not counted as removed
    pending = [e for e in review.pending_edits(session=session, actor=people["exp2"]) if e.kind == "material"]
    assert [e.removals for e in pending] == [{3: "redundant"}]
    # the review shows the texts the author compared: version 1 kept 0, 2, 3; version 2 keeps 0, 2
    assert pending[0].base_text == "Rivers carry silt.\n\nCities clean their rivers.\n\nA fourth note."
    assert pending[0].new_text == "Rivers carry silt.\n\nCities clean their rivers."
    history = [e for e in query_history(session=session, query_id=query.id) if e.kind == "material"]
    assert [(e.version_no, e.removals) for e in history] == [(1, {}), (2, {3: "redundant"})]
    assert history[0].collector == "ann1" and history[0].verifier == "exp2"
    assert history[0].document_status == "active"


def test_material_rejection_keeps_its_reason(demo_session: Session) -> None:
    session = demo_session
    people = users(session)
    query = _first_query(session)
    doc = materials.add_material(session=session, actor=people["ann1"], query_id=query.id, title="Rivers",
                                 text=MATERIAL, source_url="https://example.org", license_note="CC BY 4.0")
    materials.verify_material(session=session, actor=people["ann2"], document_id=doc.id)
    v2 = pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=[0, 2, 3],
                               removals={1: "irrelevant"}, base_version_no=1)
    review.review_edit(session=session, actor=people["exp2"], kind="material", version_id=v2.id, approve=False,
                      note="the advert names the product the query is about")
    session.expire_all()
    row = session.get(MaterialVersion, v2.id)
    assert (row.status, row.review_note) == ("rejected", "the advert names the product the query is about")


def test_query_list_covers_every_query_with_taxonomy_and_status(session: Session, bench_file: Path) -> None:
    records = [json.loads(line) for line in bench_file.read_text("utf-8").splitlines() if line.strip()]
    people = users(session)
    choices = query_choices(session=session)
    assert [c.index for c in choices] == sorted(r["index"] for r in records)
    by_index = {r["index"]: r for r in records}
    for choice in choices:
        record = by_index[choice.index]
        assert (choice.domain, choice.subdomain) == (record["domain1"], record["domain2"])
        assert choice.preview == first_words(record["query"])
        assert choice.label.startswith(f"{choice.index} · {record['domain1']} › {record['domain2']} · ")
        assert choice.statuses == ()
    # statuses follow the data: a flag, a pending edit, a verified material
    first, second = choices[0], choices[1]
    materials.set_needs_materials(session=session, actor=people["exp1"], query_id=first.query_id, needs=True,
                                  requirement="a report")
    instructions.propose_instruction(session=session, actor=people["exp1"], query_id=second.query_id,
                              text=by_index[second.index]["query"] + " (shorter)", reason="r", base_version_no=1)
    statuses = {c.index: c.statuses for c in query_choices(session=session)}
    assert statuses[first.index] == ("needs materials",)
    assert statuses[second.index] == ("pending edit",)
    doc = materials.add_material(session=session, actor=people["ann1"], query_id=first.query_id, title="Report",
                                 text=MATERIAL, source_url="https://example.org", license_note="CC BY 4.0")
    assert {c.index: c.statuses for c in query_choices(session=session)}[first.index] == ("needs materials",)
    materials.verify_material(session=session, actor=people["ann2"], document_id=doc.id)
    assert {c.index: c.statuses for c in query_choices(session=session)}[first.index] == ("has materials",)
