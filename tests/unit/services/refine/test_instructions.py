"""Instruction edits on the demo queries: a save on an outdated version is refused with both
texts kept, version numbers are never reused, and a chain of pending versions falls with its base.

The real WritingBench file's walk through adapt, review, prune, export and revert is in
``test_edits_real_data.py``."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from annotate.db.models import InstructionVersion
from annotate.services.content.content import current_instruction
from annotate.services.core.errors import Conflict
from annotate.services.refine import instructions, materials, review
from annotate.services.refine.splitter import propose_split
from annotate.services.refine.versions import EditConflict, instruction_head, instruction_versions
from tests.unit.services.refine.refine_helpers import query_id, users

#: A demo query with pasted reference material (the splitter proposes a boundary).
WITH_MATERIAL = 900001
#: A demo query that is a request only (no proposal).
REQUEST_ONLY = 900002


def test_second_save_on_an_outdated_version_is_refused_and_nothing_is_lost(session: Session) -> None:
    people = users(session)
    qid = query_id(session, REQUEST_ONLY)
    base = current_instruction(session=session, query_id=qid)
    first = base.text + "\nKeep it under 400 characters."
    second = base.text + "\nAdd an example of a dry run."
    instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid, text=first,
                                     reason="length", base_version_no=base.version_no)
    with pytest.raises(EditConflict) as info:
        instructions.propose_instruction(session=session, actor=people["exp2"], query_id=qid, text=second,
                                         reason="example", base_version_no=base.version_no)
    err = info.value
    assert err.newer_version_no == 2 and err.newer_content == first and err.yours == second
    assert err.newer_author == "exp1" and "version 2" in str(err)
    assert len(instruction_versions(session=session, query_id=qid)) == 2
    # saving again on top of the newer version works
    v3 = instructions.propose_instruction(session=session, actor=people["exp2"], query_id=qid, text=second,
                                          reason="example", base_version_no=2)
    assert v3.version_no == 3 and v3.base_version_no == 2
    # reviewing twice is refused
    review.review_edit(session=session, actor=people["exp1"], kind="instruction", version_id=v3.id, approve=False,
                       note="not what the materials support")
    with pytest.raises(Exception, match="already rejected"):
        review.review_edit(session=session, actor=people["exp1"], kind="instruction", version_id=v3.id,
                           approve=True)


def test_split_after_a_rejected_edit_takes_a_new_version_number(session: Session) -> None:
    # The query starts at version 1. exp1 proposes version 2 and exp2 rejects it, so the head
    # is version 1 again; a split on top of it must become version 3 (2 is taken by the
    # rejected proposal), never a second "version 2".
    people = users(session)
    qid = query_id(session, WITH_MATERIAL)
    base = current_instruction(session=session, query_id=qid)
    v2 = instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid,
                                          text=base.text + "\nAdd a summary.", reason="clarity", base_version_no=1)
    review.review_edit(session=session, actor=people["exp2"], kind="instruction", version_id=v2.id, approve=False,
                       note="not what the materials support")
    proposal = propose_split(base.text)
    assert proposal.method != "none"
    result = materials.confirm_split(session=session, actor=people["exp1"], query_id=qid,
                                     boundary=proposal.boundary, material_first=proposal.material_first,
                                     base_version_no=1)
    numbers = [v.version_no for v in instruction_versions(session=session, query_id=qid)]
    assert numbers == [1, 2, 3]
    assert result.instruction.version_no == 3


def test_versions_built_on_a_pending_one_wait_for_it_and_fall_with_it(session: Session) -> None:
    # exp1 proposes version 2; exp2 builds version 3 on it and exp1 version 4 on that, all pending.
    people = users(session)
    qid = query_id(session, REQUEST_ONLY)
    original = current_instruction(session=session, query_id=qid).text
    v2 = instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid,
                                          text=original + "\nName the log folder.", reason="clarity",
                                          base_version_no=1)
    v3 = instructions.propose_instruction(session=session, actor=people["exp2"], query_id=qid,
                                          text=v2.text + "\nAt most 400 characters.", reason="length",
                                          base_version_no=2)
    v4 = instructions.propose_instruction(session=session, actor=people["exp1"], query_id=qid,
                                          text=v3.text + "\nEnd with a warning.", reason="structure",
                                          base_version_no=3)
    # Version 3 carries version 2's change: approving it before version 2 would slip that in.
    with pytest.raises(Conflict, match="built on version 2, which is pending"):
        review.review_edit(session=session, actor=people["exp1"], kind="instruction", version_id=v3.id,
                           approve=True)
    assert session.get(InstructionVersion, v3.id).status == "pending"

    review.review_edit(session=session, actor=people["exp2"], kind="instruction", version_id=v2.id, approve=False,
                       note="not what the materials support")
    statuses = {v.version_no: (v.status, v.review_note)
                for v in instruction_versions(session=session, query_id=qid)}
    assert statuses[2][0] == "rejected"
    assert statuses[3] == ("rejected", "Rejected with version 2, which it builds on.")
    assert statuses[4] == ("rejected", "Rejected with version 3, which it builds on.")
    assert v4.id is not None
    # Nothing of the rejected chain is current, and the next edit builds on version 1 again.
    assert current_instruction(session=session, query_id=qid).text == original
    assert instruction_head(session=session, query_id=qid).version_no == 1
