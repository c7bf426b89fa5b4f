"""The one module that turns database rows into metaeval inputs.

Pairwise judgments become votes in FastChat's judgment layout (DESIGN section 3):
``question_id`` is the query index, the two models are in canonical order
(``model_a`` sorts before ``model_b``), ``winner`` is ``model_a``, ``model_b``, ``tie`` or
``tie (bothbad)``, ``judge`` is the annotator's username. Per-criterion choices become
extra rows carrying ``criterion``. Pointwise ratings become
``{"item_id", "system", "rater", "criterion", "score"}`` rows (``item_id`` = query index,
``system`` = model, ``criterion`` = ``"overall"``) plus ``error_type``.

Only real items are exported: qualification and gold items are controls, not data.
A judgment is *stale* when the query's content changed after it was made; stale votes are
left out unless asked for.

Example:
    >>> votes = votes_for_study(session=s, study_name="pilot")   # doctest: +SKIP
    >>> sorted(votes[0])[:3]                                     # doctest: +SKIP
    ['domain1', 'domain2', 'elapsed_s']
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from annotate.db.models import (
    Assignment,
    Domain,
    Judgment,
    LLMModel,
    PointwiseRating,
    Query,
    Response,
    Study,
    StudyItem,
    Subdomain,
    User,
)
from annotate.services.errors import NotFound
from annotate.services.taxonomy import SelectT, join_taxonomy

VOTE_FIELDS = ("question_id", "model_a", "model_b", "winner", "judge", "shown_left", "rationale",
               "elapsed_s", "domain1", "domain2", "lang", "query_version", "stale")
"""Fields of every exported vote, in column order (``criterion`` follows on per-criterion rows)."""
RATING_FIELDS = ("item_id", "system", "rater", "criterion", "score", "error_type")


def _winner(canonical: str, both_poor: bool = False) -> str:
    """FastChat's winner for a canonical ``a``/``b``/``tie``.

    Example:
        >>> _winner("a"), _winner("b"), _winner("tie"), _winner("tie", both_poor=True)
        ('model_a', 'model_b', 'tie', 'tie (bothbad)')
    """
    if canonical == "a":
        return "model_a"
    if canonical == "b":
        return "model_b"
    return "tie (bothbad)" if both_poor else "tie"


def _study(session: Session, study_name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == study_name)).first()
    if study is None:
        raise NotFound(f"no study named {study_name!r}")
    return study


def _study_answers(stmt: SelectT, assignment_fk: Any, study_id: int) -> SelectT:
    """``stmt`` over an answer table (judgments, ratings) joined through its ``assignment_fk``
    column to the assignment, study item, annotator and query, keeping only the study's
    current (not superseded) assignments of non-qualification items."""
    return (stmt.join(Assignment, Assignment.id == assignment_fk)  # type: ignore[return-value]
            .join(StudyItem, StudyItem.id == Assignment.item_id)
            .join(User, User.id == Assignment.annotator_id)
            .join(Query, Query.id == StudyItem.query_id)
            .where(Assignment.study_id == study_id, Assignment.status != "superseded",
                   StudyItem.is_qualification == False))  # noqa: E712


def votes_for_study(*, session: Session, study_name: str, include_stale: bool = False,
                    include_gold: bool = False) -> list[dict]:
    """Every human vote of a pairwise study in FastChat's layout, sorted by question,
    models, judge and criterion (overall row first)."""
    study = _study(session, study_name)
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    # Columns, not the Judgment entity: building ORM objects (and decoding every JSON
    # column) dominated the time for large studies.
    columns = select(Judgment.winner, Judgment.both_poor, Judgment.per_criterion, Judgment.rationale,
                     Judgment.elapsed_s, Judgment.content_revision, Judgment.stale,
                     Assignment.shown_left, User.username, Query.index, Query.lang,
                     Query.content_revision, Subdomain.name, Domain.name, model_a.name, model_b.name,
                     StudyItem.is_gold)
    stmt = (
        join_taxonomy(_study_answers(columns, Judgment.assignment_id, study.id))
        .join(resp_a, resp_a.id == StudyItem.response_a_id)
        .join(resp_b, resp_b.id == StudyItem.response_b_id)
        .join(model_a, model_a.id == resp_a.model_id)
        .join(model_b, model_b.id == resp_b.model_id)
    )
    rows: list[dict] = []
    for (winner, both_poor, per_criterion, rationale, elapsed_s, content_revision, judgment_stale, shown_left,
         username, index, lang, current_rev, d2, d1, name_a, name_b, is_gold) in session.exec(stmt).all():
        if is_gold and not include_gold:
            continue
        stale = bool(judgment_stale) or content_revision < current_rev
        if stale and not include_stale:
            continue
        # Canonical order is by model name; items are stored that way, but do not trust it blindly.
        swap = name_a > name_b
        base = {
            "question_id": index,
            "model_a": name_b if swap else name_a,
            "model_b": name_a if swap else name_b,
            "judge": username,
            "shown_left": "model_a" if (shown_left == "a") != swap else "model_b",
            "rationale": rationale,
            "elapsed_s": elapsed_s,
            "domain1": d1,
            "domain2": d2,
            "lang": lang,
            "query_version": content_revision,
            "stale": stale,
        }

        def flip(canonical: str, swap: bool = swap) -> str:
            return {"a": "b", "b": "a"}.get(canonical, canonical) if swap else canonical

        rows.append({**base, "winner": _winner(flip(winner), both_poor)})
        for criterion, choice in sorted((per_criterion or {}).items()):
            rows.append({**base, "winner": _winner(flip(choice)), "criterion": criterion})
    rows = [{k: row[k] for k in (*VOTE_FIELDS, "criterion") if k in row} for row in rows]
    rows.sort(key=lambda r: (str(r["question_id"]), r["model_a"], r["model_b"], r["judge"],
                             r.get("criterion") is not None, r.get("criterion") or ""))
    return rows


def ratings_for_study(*, session: Session, study_name: str, include_stale: bool = False) -> list[dict]:
    """Every pointwise rating of a study in the pointwise layout, sorted by item, system, rater."""
    study = _study(session, study_name)
    stmt = (
        _study_answers(select(PointwiseRating, User.username, Query.index, Query.content_revision, LLMModel.name),
                       PointwiseRating.assignment_id, study.id)
        .join(Response, Response.id == StudyItem.response_a_id)
        .join(LLMModel, LLMModel.id == Response.model_id)
    )
    rows = []
    for rating, username, index, current_rev, model in session.exec(stmt).all():
        stale = bool(rating.stale) or rating.content_revision < current_rev
        if stale and not include_stale:
            continue
        rows.append({"item_id": index, "system": model, "rater": username, "criterion": "overall",
                     "score": rating.score, "error_type": rating.error_type})
    rows.sort(key=lambda r: (str(r["item_id"]), r["system"], r["rater"]))
    return rows
