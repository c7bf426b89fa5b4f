"""``annotate demo`` starts on an existing demo database whatever people did in it:
after an approved query edit (the query's judge scores turn stale), a second run must not stop
at the stored scores ("a different score for criterion … is already stored", exit 2)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from annotate.commands import serve
from annotate.commands.cli import main
from annotate.db.engine import make_engine
from annotate.db.models import JudgeScore, Query, User
from annotate.services.refine import instructions, review, versions


def test_demo_restarts_after_an_approved_edit(db_url, monkeypatch, capsys):
    if not (serve.DEMO_DIR / "queries.jsonl").is_file():
        pytest.skip("annotate/data/demo/queries.jsonl not written yet")
    monkeypatch.setenv("ANNOTATE_DEMO_PASSWORD", "demo-test-password")
    assert main(["--db", db_url, "demo", "--no-serve"]) == 0
    engine = make_engine(db_url)
    with Session(engine) as s:
        expert1 = s.exec(select(User).where(User.username == "expert1")).one()
        expert2 = s.exec(select(User).where(User.username == "expert2")).one()
        query = s.exec(select(Query).order_by(Query.index)).first()
        head = versions.instruction_head(session=s, query_id=query.id)
        version = instructions.propose_instruction(session=s, actor=expert1, query_id=query.id,
                                            text=head.text + " Keep it under 300 words.",
                                            reason="a length makes the task realistic", base_version_no=head.version_no)
        review.review_edit(session=s, actor=expert2, kind="instruction", version_id=version.id, approve=True)
        stale_before = len(s.exec(select(JudgeScore).where(JudgeScore.stale)).all())
    assert stale_before > 0  # the approved edit made that query's scores stale
    assert main(["--db", db_url, "demo", "--no-serve"]) == 0
    with Session(engine) as s:  # what people did stays: the stale scores are kept as they were
        assert len(s.exec(select(JudgeScore).where(JudgeScore.stale)).all()) == stale_before
    engine.dispose()
