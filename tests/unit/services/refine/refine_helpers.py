"""Helpers shared by the expert-refinement tests (not a test module)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import Session, select

from annotate.db.engine import init_db, make_engine
from annotate.db.models import Query, User
from annotate.services.content.content import current_instruction
from annotate.services.content.imports import import_queries
from annotate.services.refine.materials import SplitResult, confirm_split
from annotate.services.refine.splitter import propose_split

#: The demo's 15 queries (English, five domains): the refinement tests' everyday data.
DEMO_QUERIES = Path(__file__).resolve().parents[4] / "annotate" / "data" / "demo" / "queries.jsonl"


def build_template(directory: Path, queries: Path) -> Path:
    """A migrated SQLite file holding ``queries`` and four users; returns its path."""
    path = directory / "template.db"
    engine = init_db(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as session:
        import_queries(session=session, path=queries)
        for name, role in (("ann1", "annotator"), ("ann2", "annotator"), ("exp1", "expert"),
                           ("exp2", "expert"), ("res1", "researcher")):
            session.add(User(username=name, role=role, password_hash="x"))
        session.commit()
    engine.dispose()
    return path


def copy_database(template: Path, directory: Path):  # type: ignore[no-untyped-def]
    """An engine on a fresh copy of the template database."""
    target = directory / "copy.db"
    shutil.copyfile(template, target)
    return make_engine(f"sqlite:///{target}")


def users(session: Session) -> dict[str, User]:
    """The template's users by name."""
    return {u.username: u for u in session.exec(select(User))}


def query_id(session: Session, index: int) -> int:
    """The database id of the query with WritingBench index ``index``."""
    return session.exec(select(Query.id).where(Query.index == index)).one()


def split_query(session: Session, index: int, who: User) -> SplitResult:
    """Split query ``index`` where the splitter proposes, as ``who``, on instruction version 1."""
    qid = query_id(session, index)
    p = propose_split(current_instruction(session=session, query_id=qid).text)
    return confirm_split(session=session, actor=who, query_id=qid, boundary=p.boundary,
                         material_first=p.material_first, base_version_no=1)
