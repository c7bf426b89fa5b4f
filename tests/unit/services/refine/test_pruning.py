"""Material pruning on the demo queries: a split needs text on both sides, two experts pruning
the same version conflict, and a pruning built on a rejected one is rejected with it.

The real WritingBench file's prune of a Chinese government document (with export and revert)
is in ``test_edits_real_data.py``."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from annotate.db.models import MaterialDocument, MaterialVersion
from annotate.services.core.errors import Conflict, InputError, PermissionDenied
from annotate.services.refine import materials, pruning, review
from annotate.services.refine.versions import EditConflict, segments_of
from tests.unit.services.refine.refine_helpers import query_id, split_query, users

#: The demo's quarterly-results query: a request, then seven paragraphs of figures.
WITH_MATERIAL = 900003


def test_split_rejects_a_boundary_that_leaves_a_side_blank(session: Session) -> None:
    people = users(session)
    qid = query_id(session, WITH_MATERIAL)
    with pytest.raises(InputError, match="boundary"):
        materials.confirm_split(session=session, actor=people["exp1"], query_id=qid, boundary=0, base_version_no=1)
    with pytest.raises(PermissionDenied):
        materials.confirm_split(session=session, actor=people["ann1"], query_id=qid, boundary=50,
                                base_version_no=1)
    assert session.exec(select(MaterialDocument)).all() == []


def test_material_conflict(session: Session) -> None:
    people = users(session)
    doc = split_query(session, WITH_MATERIAL, people["exp1"]).document
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
    doc = split_query(session, WITH_MATERIAL, people["exp1"]).document
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
