"""Competence of each annotator of a pairwise study (latent-class model of the votes).

The numbers come from :func:`metaeval.stats.annotators.annotator_competence` (Dawid–Skene by
default, MACE as an option) fitted to the study's overall, non-stale votes, gold pairs
included, with the study's gold answers as the known outcomes (``gold_accuracy``). After an
extension the votes carry their design and the fit is design-weighted, as ``metaeval annotators``
on the exported votes. This module only gathers the inputs and reshapes the result.

Example:
    >>> res = study_competence(session=s, study_name="pilot", n_resamples=200)   # doctest: +SKIP
    >>> res.frame().columns[:3].tolist()                                           # doctest: +SKIP
    ['annotator', 'n', 'competence']
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from annotate.db.models import LLMModel, Query, Response, StudyItem
from annotate.services.core.errors import InputError
from annotate.services.core.statuses import StudyKind
from annotate.services.judges.agreement_view import study_vote_design
from annotate.services.judges.bridge import votes_for_study
from annotate.services.studies.lifecycle import get_study
from metaeval.stats.annotators import AnnotatorResult, annotator_competence
from metaeval.stats.settings import COMPETENCE

OUTCOME = {"a": 1, "tie": 0, "b": -1}  # canonical: a = the model whose name sorts first


def gold_outcomes(*, session: Session, study_name: str) -> dict[tuple[str, str, str], int]:
    """(query index as text, lower model, higher model) -> known outcome of the study's gold pairs."""
    study = get_study(session=session, name=study_name)
    rows = session.exec(select(Query.index, StudyItem.response_a_id, StudyItem.response_b_id, StudyItem.gold_winner)
                        .join(Query, col(Query.id) == StudyItem.query_id)
                        .where(StudyItem.study_id == study.id, StudyItem.gold_winner != None)).all()  # noqa: E711
    rids = {r for _, a, b, _ in rows for r in (a, b) if r is not None}
    model = dict(session.exec(select(Response.id, LLMModel.name).join(LLMModel, col(LLMModel.id) == Response.model_id)
                              .where(col(Response.id).in_(rids))).all()) if rids else {}
    out = {}
    for index, a, b, winner in rows:
        if b is None or winner is None:  # the query keeps only gold pairs (winner set)
            continue
        lo, hi = model[a], model[b]
        outcome = OUTCOME[winner]
        if lo > hi:  # stored canonical, but do not trust it blindly
            lo, hi, outcome = hi, lo, -outcome
        out[(str(index), lo, hi)] = outcome
    return out


def study_competence(*, session: Session, study_name: str, model: str = "dawid-skene",
                     n_resamples: int = COMPETENCE.n_resamples, seed: int = COMPETENCE.seed,
                     include_stale: bool = False) -> AnnotatorResult:
    """The latent-class competence of every annotator of a pairwise study.

    Raises:
        NotFound: no such study.
        InputError: a pointwise study, or no votes yet.
    """
    study = get_study(session=session, name=study_name)
    if study.kind != StudyKind.PAIRWISE:
        raise InputError("competence is computed for pairwise studies", field="study")
    # with their task ids (history=True adds them; without include_stale no row more): the design joins on them
    votes = [v for v in votes_for_study(session=session, study_name=study_name, include_stale=include_stale,
                                        include_gold=True, history=True) if v.get("criterion") is None]
    if not votes:
        raise InputError(f"study {study_name!r} has no votes yet")
    # after an extension the fit is design-weighted (settings["estimator"] = "design-based"), as the CLI's
    design = None if include_stale else study_vote_design(session=session, study_name=study_name, votes=votes)
    return annotator_competence(votes, model=model, gold=gold_outcomes(session=session, study_name=study_name),
                                n_resamples=n_resamples, seed=seed, level=COMPETENCE.level,
                                include_stale=include_stale, design=design)
