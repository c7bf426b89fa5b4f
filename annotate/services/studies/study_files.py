"""Files a judge run needs from the database: responses, and a study's pairs before any vote.

``export responses`` writes every stored response as ``{"index", "model", "response"}`` (the
``model`` field always set, so ``metaeval judge|grid --responses FILE`` needs no name). ``export
pairs`` writes a pairwise study's items as ``{"question_id", "model_a", "model_b", "domain1",
"domain2", "lang"}`` lines, models in canonical (sorted) order, one line per distinct pair — what
``metaeval grid --pairs FILE`` judges before people vote. Both files are written atomically.

Example:
    >>> from annotate.db.engine import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     response_records(session=session)
    []
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from annotate.db.models import Domain, LLMModel, Query, Response, StudyItem, Subdomain, User, id_of
from annotate.services.content.exports import write_jsonl
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import StudyKind
from annotate.services.studies.lifecycle import get_study

log = logging.getLogger(__name__)


def response_records(*, session: Session, models: list[str] | None = None) -> list[dict[str, Any]]:
    """Every stored response (optionally only of ``models``) as ``{index, model, response}``, by index and model."""
    stmt = (sa_select(col(Query.index), col(LLMModel.name), col(Response.text))
            .join(Query, col(Query.id) == Response.query_id)
            .join(LLMModel, col(LLMModel.id) == Response.model_id))
    if models:
        stmt = stmt.where(col(LLMModel.name).in_(models))
    rows = session.execute(stmt.order_by(col(Query.index), col(LLMModel.name))).all()
    return [{"index": index, "model": model, "response": text} for index, model, text in rows]


def pair_records(*, session: Session, study_name: str) -> list[dict[str, Any]]:
    """A pairwise study's distinct pairs (gold and qualification items included), by question and models.

    Raises:
        NotFound: no such study.
        InputError: the study is pointwise (it has no pairs).
    """
    study = get_study(session=session, name=study_name)
    if study.kind != StudyKind.PAIRWISE:
        raise InputError(f"study {study_name!r} is {study.kind}; only a pairwise study has pairs", field="study")
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    stmt = (sa_select(col(Query.index), col(Query.lang), col(Domain.name), col(Subdomain.name),
                      col(model_a.name), col(model_b.name))
            .select_from(StudyItem)
            .join(Query, col(Query.id) == StudyItem.query_id)
            .join(Subdomain, col(Subdomain.id) == Query.subdomain_id)
            .join(Domain, col(Domain.id) == Subdomain.domain_id)
            .join(resp_a, col(resp_a.id) == StudyItem.response_a_id)
            .join(resp_b, col(resp_b.id) == StudyItem.response_b_id)
            .join(model_a, col(model_a.id) == resp_a.model_id)
            .join(model_b, col(model_b.id) == resp_b.model_id)
            .where(col(StudyItem.study_id) == id_of(study)))
    seen: dict[tuple[int, str, str], dict[str, Any]] = {}
    for index, lang, d1, d2, name_a, name_b in session.execute(stmt).all():
        lo, hi = sorted((name_a, name_b))
        seen.setdefault((index, lo, hi), {"question_id": index, "model_a": lo, "model_b": hi,
                                          "domain1": d1, "domain2": d2, "lang": lang})
    return [seen[k] for k in sorted(seen)]


def export_pairs(*, session: Session, actor: User | None, study_name: str, path: str | Path) -> int:
    """Write the study's pairs to ``path`` (JSON Lines); return the number of pairs.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound: no such study.  InputError: a pointwise study.
    """
    require_role(actor, *MANAGERS)
    n = write_jsonl(path, pair_records(session=session, study_name=study_name))
    log.info("exported %d pairs of study %r to %s", n, study_name, path)
    return n


def export_responses(*, session: Session, path: str | Path, models: list[str] | None = None) -> int:
    """Write the stored responses to ``path`` as ``{index, model, response}`` lines; return the count."""
    return write_jsonl(path, response_records(session=session, models=models))
