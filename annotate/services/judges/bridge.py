"""The one module that turns database rows into metaeval inputs.

Pairwise judgments become votes in FastChat's judgment layout (docs/formats.md, "Pairwise votes"):
``question_id`` is the query index, the two models are in canonical order
(``model_a`` sorts before ``model_b``), ``winner`` is ``model_a``, ``model_b``, ``tie`` or
``tie (bothbad)``, ``judge`` is the annotator's username. Per-criterion choices become
extra rows carrying ``criterion``. Pointwise ratings become
``{"item_id", "system", "rater", "criterion", "score"}`` rows (``item_id`` = query index,
``system`` = model, ``criterion`` = ``"overall"``) plus ``error_type``, ``domain1``, ``domain2``
and ``lang``.

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

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

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
    id_of,
)
from annotate.services.core.errors import NotFound
from annotate.services.core.statuses import TaskStatus
from annotate.services.core.taxonomy import SelectT, join_taxonomy

VOTE_FIELDS = ("question_id", "model_a", "model_b", "winner", "judge", "shown_left", "rationale",
               "elapsed_s", "active_seconds", "domain1", "domain2", "lang", "query_version", "stale")
"""Fields of every exported vote, in column order (``criterion`` follows on per-criterion rows).
``active_seconds``: the active time of the showing the vote came from
(:mod:`annotate.services.annotate.active_time`; ``None`` when none was measured)."""
RATING_FIELDS = ("item_id", "system", "rater", "criterion", "score", "error_type", "domain1", "domain2", "lang")
"""Fields of every exported pointwise rating, in column order (``domain1``, ``domain2`` and ``lang``
are the query's, for ``metaeval correlation --by``)."""
HISTORY_FIELDS = ("status", "instruction_version")
"""Fields a history export adds to every vote and rating (``history=True``): the answer's
:func:`answer_status` and the instruction version the annotator saw."""
ANSWER_CURRENT, ANSWER_STALE, ANSWER_SUPERSEDED = "current", "stale", "superseded"


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


def _study_answers(stmt: SelectT, assignment_fk: Any, study_id: int, *, superseded: bool = False) -> SelectT:
    """``stmt`` over an answer table (judgments, ratings) joined through its ``assignment_fk``
    column to the assignment, study item, annotator and query, keeping only the study's
    current (not superseded, unless ``superseded``) assignments of non-qualification items."""
    stmt = (stmt.join(Assignment, col(Assignment.id) == assignment_fk)
            .join(StudyItem, col(StudyItem.id) == Assignment.item_id)
            .join(User, col(User.id) == Assignment.annotator_id)
            .join(Query, col(Query.id) == StudyItem.query_id)
            .where(col(Assignment.study_id) == study_id, col(StudyItem.is_qualification) == False))  # noqa: E712
    return stmt if superseded else stmt.where(col(Assignment.status) != TaskStatus.SUPERSEDED)


def answer_status(task_status: str, stale: bool) -> str:
    """An exported answer's status: ``superseded`` (its task was re-queued: a newer task on the
    same pair replaced it), ``stale`` (the query changed after it, not re-queued yet) or
    ``current``.

    Example:
        >>> answer_status("done", False), answer_status("done", True), answer_status("superseded", True)
        ('current', 'stale', 'superseded')
    """
    if task_status == TaskStatus.SUPERSEDED:
        return ANSWER_SUPERSEDED
    return ANSWER_STALE if stale else ANSWER_CURRENT


def votes_for_study(*, session: Session, study_name: str, include_stale: bool = False,
                    include_gold: bool = False, history: bool = False) -> list[dict]:
    """Every human vote of a pairwise study in FastChat's layout, sorted by question,
    models, judge and criterion (overall row first).

    With ``history`` (and ``include_stale``) the judgments of re-queued (superseded) tasks are
    included too, so every judgment ever stored is there, and each row also carries
    :data:`HISTORY_FIELDS` and ``task`` (the assignment id, for joining per-task fields)."""
    study = _study(session, study_name)
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    # Columns, not the Judgment entity: building ORM objects (and decoding every JSON
    # column) dominated the time for large studies.
    columns = sa_select(col(Judgment.winner), col(Judgment.both_poor), col(Judgment.per_criterion),
                        col(Judgment.rationale), col(Judgment.elapsed_s), col(Judgment.active_s),
                        col(Judgment.content_revision), col(Judgment.stale), col(Assignment.shown_left), col(User.username), col(Query.index),
                        col(Query.lang), col(Query.content_revision), col(Subdomain.name), col(Domain.name),
                        col(model_a.name), col(model_b.name), col(StudyItem.is_gold),
                        col(Judgment.instruction_version_no), col(Assignment.id), col(Assignment.status))
    stmt = (
        join_taxonomy(_study_answers(columns, Judgment.assignment_id, id_of(study),
                                     superseded=history and include_stale))
        .join(resp_a, col(resp_a.id) == StudyItem.response_a_id)
        .join(resp_b, col(resp_b.id) == StudyItem.response_b_id)
        .join(model_a, col(model_a.id) == resp_a.model_id)
        .join(model_b, col(model_b.id) == resp_b.model_id)
    )
    rows: list[dict] = []
    for (winner, both_poor, per_criterion, rationale, elapsed_s, active_s, content_revision, judgment_stale,
         shown_left, username, index, lang, current_rev, d2, d1, name_a, name_b, is_gold, instruction_version,
         task, task_status) in session.execute(stmt).all():
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
            "active_seconds": active_s,
            "domain1": d1,
            "domain2": d2,
            "lang": lang,
            "query_version": content_revision,
            "stale": stale,
            "status": answer_status(task_status, stale),
            "instruction_version": instruction_version,
            "task": task,
        }

        def flip(canonical: str, swap: bool = swap) -> str:
            return {"a": "b", "b": "a"}.get(canonical, canonical) if swap else canonical

        rows.append({**base, "winner": _winner(flip(winner), both_poor)})
        for criterion, choice in sorted((per_criterion or {}).items()):
            rows.append({**base, "winner": _winner(flip(choice)), "criterion": criterion})
    fields = (*VOTE_FIELDS, "criterion", *((*HISTORY_FIELDS, "task") if history else ()))
    rows = [{k: row[k] for k in fields if k in row} for row in rows]
    rows.sort(key=lambda r: (str(r["question_id"]), r["model_a"], r["model_b"], r["judge"], r.get("task") or 0,
                             r.get("criterion") is not None, r.get("criterion") or ""))
    return rows


def overall_votes_frame(*, session: Session, study_name: str, include_stale: bool = False,
                        include_gold: bool = False):  # noqa: ANN201 - a pandas DataFrame
    """The overall votes of :func:`votes_for_study` (no per-criterion rows) as a DataFrame.

    Columns :data:`VOTE_FIELDS`, same values, same order. Built column-wise from the fetched
    columns (no per-vote dicts, no decoding of the per-criterion JSON), for pages that only
    need the overall votes of a large study.

    Example:
        >>> overall_votes_frame(session=s, study_name="pilot").columns[:3].tolist()   # doctest: +SKIP
        ['question_id', 'model_a', 'model_b']
    """
    import numpy as np
    import pandas as pd

    study = _study(session, study_name)
    # Two narrow queries instead of one eleven-way join per vote: the study's current votes
    # (same filters as _study_answers), and once per item its query, taxonomy and models.
    conn = session.connection()  # Core rows: no ORM row processing
    vote_rows = conn.execute(
        sa_select(col(Judgment.winner), col(Judgment.both_poor), col(Judgment.rationale), col(Judgment.elapsed_s),
                  col(Judgment.active_s), col(Judgment.content_revision), col(Judgment.stale), col(Assignment.shown_left),
                  col(Assignment.annotator_id), col(Assignment.item_id))
        .join(Assignment, col(Assignment.id) == Judgment.assignment_id)
        .where(col(Assignment.study_id) == id_of(study), col(Assignment.status) != TaskStatus.SUPERSEDED)).all()
    if not vote_rows:
        return pd.DataFrame(columns=list(VOTE_FIELDS))
    resp_a, resp_b = aliased(Response), aliased(Response)
    model_a, model_b = aliased(LLMModel), aliased(LLMModel)
    item_rows = conn.execute(
        join_taxonomy(sa_select(col(StudyItem.id), col(Query.index), col(Query.lang), col(Query.content_revision),
                                col(Subdomain.name), col(Domain.name), col(model_a.name), col(model_b.name),
                                col(StudyItem.is_gold))
                      .join(Query, col(Query.id) == StudyItem.query_id))
        .join(resp_a, col(resp_a.id) == StudyItem.response_a_id)
        .join(resp_b, col(resp_b.id) == StudyItem.response_b_id)
        .join(model_a, col(model_a.id) == resp_a.model_id).join(model_b, col(model_b.id) == resp_b.model_id)
        .where(col(StudyItem.study_id) == id_of(study), col(StudyItem.is_qualification) == False)).all()  # noqa: E712
    users: dict[int, str] = dict(conn.execute(select(User.id, User.username)).all())

    (winner, both_poor, rationale, elapsed_s, active_s, revision, judgment_stale, shown_left, annotator,
     item) = (np.array(c, dtype=object) for c in zip(*vote_rows, strict=True))
    item_cols = [np.array(c, dtype=object) for c in zip(*item_rows, strict=True)] or [np.array([], dtype=object)] * 9
    at = pd.Index(item_cols[0]).get_indexer(item)  # -1: a qualification item (or not this study's)
    user_at = pd.Index(list(users)).get_indexer(annotator)
    keep = (at >= 0) & (user_at >= 0)
    at, user_at = at[keep], user_at[keep]
    winner, both_poor, rationale, elapsed_s, active_s, revision, judgment_stale, shown_left = (
        c[keep] for c in (winner, both_poor, rationale, elapsed_s, active_s, revision, judgment_stale, shown_left))
    username = np.array(list(users.values()), dtype=object)[user_at]
    index, lang, current_rev, d2, d1, name_a, name_b, is_gold = (c[at] for c in item_cols[1:])
    stale = np.array([bool(x) for x in judgment_stale], dtype=bool) | (revision < current_rev).astype(bool)
    keep = np.ones(len(winner), dtype=bool)
    if not include_gold:
        keep &= ~np.array([bool(x) for x in is_gold], dtype=bool)
    if not include_stale:
        keep &= ~stale
    swap = name_a > name_b  # canonical order is by model name (see votes_for_study)
    first_wins = np.where(swap, winner == "b", winner == "a")
    second_wins = np.where(swap, winner == "a", winner == "b")
    tie = np.where([bool(x) for x in both_poor], "tie (bothbad)", "tie")
    frame = pd.DataFrame({
        "question_id": index,
        "model_a": np.where(swap, name_b, name_a),
        "model_b": np.where(swap, name_a, name_b),
        "winner": np.where(first_wins, "model_a", np.where(second_wins, "model_b", tie)),
        "judge": username,
        "shown_left": np.where((shown_left == "a") != swap, "model_a", "model_b"),
        "rationale": rationale, "elapsed_s": elapsed_s, "active_seconds": active_s, "domain1": d1, "domain2": d2, "lang": lang,
        "query_version": revision, "stale": stale,
    })[keep]
    frame = frame.infer_objects()
    order = pd.DataFrame({"q": frame["question_id"].astype(str), "a": frame["model_a"], "b": frame["model_b"],
                          "j": frame["judge"]}).sort_values(["q", "a", "b", "j"], kind="stable").index
    return frame.loc[order, list(VOTE_FIELDS)].reset_index(drop=True)


def ratings_for_study(*, session: Session, study_name: str, include_stale: bool = False,
                      history: bool = False) -> list[dict]:
    """Every pointwise rating of a study in the pointwise layout, sorted by item, system, rater.

    ``history``: as in :func:`votes_for_study` (ratings of re-queued tasks too, with
    :data:`HISTORY_FIELDS`)."""
    study = _study(session, study_name)
    stmt = (
        join_taxonomy(_study_answers(sa_select(PointwiseRating, col(User.username), col(Query.index),
                                               col(Query.content_revision), col(LLMModel.name),
                                               col(Assignment.status), col(Query.lang),
                                               col(Subdomain.name), col(Domain.name)),
                                     PointwiseRating.assignment_id, id_of(study),
                                     superseded=history and include_stale))
        .join(Response, col(Response.id) == StudyItem.response_a_id)
        .join(LLMModel, col(LLMModel.id) == Response.model_id)
    )
    rows = []
    for rating, username, index, current_rev, model, task_status, lang, d2, d1 in session.execute(stmt).all():
        stale = bool(rating.stale) or rating.content_revision < current_rev
        if stale and not include_stale:
            continue
        row = {"item_id": index, "system": model, "rater": username, "criterion": "overall",
               "score": rating.score, "error_type": rating.error_type, "domain1": d1, "domain2": d2,
               "lang": lang}
        if history:
            row |= {"status": answer_status(task_status, stale), "instruction_version": rating.instruction_version_no,
                    "task": rating.assignment_id}
        rows.append(row)
    rows.sort(key=lambda r: (str(r["item_id"]), r["system"], r["rater"], r.get("task") or 0))
    return rows
