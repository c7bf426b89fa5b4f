"""Material pruning on the demo queries: a split needs text on both sides, two experts pruning
the same version conflict, and a pruning built on a rejected one is rejected with it.

The real WritingBench file's prune of a Chinese government document (with export and revert)
is in ``test_edits_real_data.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.db.models import MaterialDocument, MaterialVersion, Query
from annotate.services.content.content import current_instruction
from annotate.services.core.errors import Conflict, InputError, PermissionDenied
from annotate.services.refine import materials, pruning, review
from annotate.services.refine.splitter import propose_split
from annotate.services.refine.versions import EditConflict, segments_of
from tests.unit.services.refine.refine_helpers import DEMO_QUERIES, build_template, copy_database, users

#: The demo's quarterly-results query: a request, then seven paragraphs of figures.
WITH_MATERIAL = 900003


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("pruning_tpl"), DEMO_QUERIES)


@pytest.fixture()
def session(template: Path, tmp_path: Path):
    engine = copy_database(template, tmp_path)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def _qid(session: Session, index: int) -> int:
    return session.exec(select(Query.id).where(Query.index == index)).one()


def _split(session: Session, index: int, who) -> materials.SplitResult:  # type: ignore[no-untyped-def]
    qid = _qid(session, index)
    p = propose_split(current_instruction(session=session, query_id=qid).text)
    return materials.confirm_split(session=session, actor=who, query_id=qid, boundary=p.boundary,
                                   material_first=p.material_first, base_version_no=1)


def test_split_rejects_a_boundary_that_leaves_a_side_blank(session: Session) -> None:
    people = users(session)
    qid = _qid(session, WITH_MATERIAL)
    with pytest.raises(InputError, match="boundary"):
        materials.confirm_split(session=session, actor=people["exp1"], query_id=qid, boundary=0, base_version_no=1)
    with pytest.raises(PermissionDenied):
        materials.confirm_split(session=session, actor=people["ann1"], query_id=qid, boundary=50,
                                base_version_no=1)
    assert session.exec(select(MaterialDocument)).all() == []


def test_material_conflict(session: Session) -> None:
    people = users(session)
    doc = _split(session, WITH_MATERIAL, people["exp1"]).document
    positions = [s.position for s in segments_of(session=session, document_id=doc.id)]
    assert len(positions) >= 3
    pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=positions[1:],
                            removals={positions[0]: "redundant"}, base_version_no=1)
    with pytest.raises(EditConflict) as info:
        pruning.propose_pruning(session=session, actor=people["exp2"], document_id=doc.id, kept=positions[:-1],
                                removals={positions[-1]: "too long"}, base_version_no=1)
    assert info.value.newer_version_no == 2 and info.value.newer_content == positions[1:]
    assert info.value.yours == positions[:-1]


def test_material_versions_built_on_a_rejected_one_are_rejected_too(session: Session) -> None:
    people = users(session)
    doc = _split(session, WITH_MATERIAL, people["exp1"]).document
    positions = [s.position for s in segments_of(session=session, document_id=doc.id)]
    m2 = pruning.propose_pruning(session=session, actor=people["exp1"], document_id=doc.id, kept=positions[1:],
                                 removals={positions[0]: "redundant"}, base_version_no=1)
    m3 = pruning.propose_pruning(session=session, actor=people["exp2"], document_id=doc.id, kept=positions[2:],
                                 removals={positions[0]: "redundant", positions[1]: "duplicate"},
                                 base_version_no=2)
    with pytest.raises(Conflict, match="review version 2 first"):
        review.review_edit(session=session, actor=people["exp1"], kind="material", version_id=m3.id, approve=True)
    review.review_edit(session=session, actor=people["exp2"], kind="material", version_id=m2.id, approve=False,
                       note="not what the materials support")
    assert session.get(MaterialVersion, m3.id).status == "rejected"
