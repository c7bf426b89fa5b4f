"""The agreement page's data: human votes of a study against imported judge runs.

Votes come from :func:`annotate.services.judges.bridge.votes_for_study`; each judge run's verdict on a pair
is the response with the higher mean criterion score
(:func:`metaeval.stats.verdicts.verdicts_from_scores`); every statistic - the Table 4 rows
with bootstrap intervals, the human ceiling, paired tests against the best row, breakdowns
by domain, subdomain and language, position and length bias - comes from
:func:`metaeval.stats.agreement_study.agreement_study`, and the downloads from
:func:`metaeval.report.agreement.render`. This module only gathers inputs and reshapes results.

Example:
    >>> view = agreement_view(session=s, actor=researcher, study_name="pilot")   # doctest: +SKIP
    >>> view.table_header[:3], view.downloads["csv"].splitlines()[0][:11]         # doctest: +SKIP
    (['Method', 'Judge', 'n'], 'judge,metho')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from annotate.db.models import JudgeScore, Judgment, LLMModel, Query, Response, User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.bridge import votes_for_study
from annotate.services.judges.judge_runs import list_runs, load_score_means
from metaeval.report.agreement import FORMATS, HEADER, render, table4_rows
from metaeval.stats.agreement import votes_frame
from metaeval.stats.agreement_study import AgreementResult, JudgeVerdicts, agreement_study
from metaeval.stats.design import ESTIMATOR_POOLED, apply_design, vote_design_frame
from metaeval.stats.verdicts import verdicts_from_scores

log = logging.getLogger(__name__)

BREAKDOWNS = {"domain1": "Domain", "domain2": "Subdomain", "lang": "Language"}
DOWNLOAD_TYPES = {"csv": ("csv", "text/csv"), "latex": ("tex", "application/x-tex"),
                  "html": ("html", "text/html"), "json": ("json", "application/json"),
                  "markdown": ("md", "text/markdown")}


@dataclass
class AgreementView:
    """Plain data for the agreement page.

    Attributes:
        result: metaeval's full result (rows, human, comparisons, breakdowns).
        table_header / table_rows: the Table 4 layout as text cells (last row: human ceiling).
        human_lines: sentences about the human votes and the settings.
        comparisons: paired tests (a, b, difference, ci, p_value, p_holm ...).
        best: name of the best row (``method/judge``), or None.
        breakdowns: name -> long frame (group, column, n, agreement, lo, hi).
        bias: one row per judge row and one for the people (position/length bias).
        downloads: format -> text (csv, latex, html, json, markdown).
        notes: warnings for the page (runs without verdicts etc.).
    """

    result: AgreementResult
    table_header: list[str]
    table_rows: list[list[str]]
    human_lines: list[str]
    comparisons: list[dict]
    best: str | None
    breakdowns: dict[str, pd.DataFrame]
    bias: list[dict]
    downloads: dict[str, str]
    notes: list[str] = field(default_factory=list)


def response_lengths(*, session: Session, indexes: list[int] | None = None) -> dict[tuple[str, str], int]:
    """(query index as text, model) -> response length in characters."""
    stmt = (select(Query.index, LLMModel.name, func.length(Response.text))
            .join(Response, col(Response.query_id) == Query.id).join(LLMModel, col(LLMModel.id) == Response.model_id))
    if indexes is not None:
        stmt = stmt.where(col(Query.index).in_(indexes))
    return {(str(i), m): int(n or 0) for i, m, n in session.exec(stmt).all()}


def data_version(*, session: Session) -> tuple:
    """A cheap fingerprint of votes and scores, for caching a computed view."""
    j = session.exec(select(func.count(col(Judgment.id)), func.max(Judgment.updated_at))).one()
    s = session.exec(select(func.count(col(JudgeScore.id)), func.max(col(JudgeScore.id)))).one()
    q = session.exec(select(func.sum(Query.content_revision))).one()
    return (*j, *s, q)


def run_verdicts(scores: pd.DataFrame, pairs: pd.DataFrame, *, epsilon: float = 0.0) -> pd.DataFrame:
    """metaeval's verdict per pair (qid, lo, hi, verdict, diff, ...) from one run's scores.

    ``scores`` holds criterion scores (:func:`~annotate.services.judges.judge_runs.load_scores`) or
    per-response means (:func:`~annotate.services.judges.judge_runs.load_score_means`, one row per
    response, whose mean is itself): the verdicts are the same.
    """
    return verdicts_from_scores(scores[["index", "model", "score"]], pairs, epsilon=epsilon)


def agreement_inputs(*, session: Session, study_name: str, run_ids: list[int] | None = None,
                     include_stale: bool = False, epsilon: float = 0.0) -> tuple[list[dict], dict[str, JudgeVerdicts], list[str]]:
    """(human votes, {``method/judge``: verdicts}, notes) for a study and judge runs."""
    votes = votes_for_study(session=session, study_name=study_name, include_stale=include_stale)
    overall = [v for v in votes if v.get("criterion") is None]
    if not overall:
        raise InputError(f"study {study_name!r} has no human votes yet")
    frame = votes_frame(overall)
    pairs = frame[["qid", "lo", "hi"]].drop_duplicates()
    runs = {r.run_id: r for r in list_runs(session=session)}
    chosen = list(runs) if run_ids is None else [r for r in run_ids if r in runs]
    scores = load_score_means(session=session, run_ids=chosen, include_stale=include_stale)
    judges: dict[str, JudgeVerdicts] = {}
    notes: list[str] = []
    for rid in chosen:
        sub = scores[scores["run_id"] == rid]
        verdicts = run_verdicts(sub, pairs, epsilon=epsilon) if len(sub) else pd.DataFrame()
        if verdicts.empty:
            notes.append(f"{runs[rid].label}: no scores on this study's pairs (left out)")
            continue
        judges[runs[rid].label] = JudgeVerdicts(pairs=verdicts)
        if len(verdicts) < len(pairs):
            notes.append(f"{runs[rid].label}: verdicts on {len(verdicts)} of {len(pairs)} pairs")
    return votes, judges, notes


def agreement_view(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
                   n_resamples: int = 1000, seed: int = 0, epsilon: float = 0.0, split: str = "tie",
                   test: str = "signflip", include_stale: bool = False) -> AgreementView:
    """Compute the agreement page for a study (researcher/admin); see the module docstring.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound: no such study.
        InputError: the study has no votes, or no selected run scores its pairs.
    """
    require_role(actor, *MANAGERS)
    votes, judges, notes = agreement_inputs(session=session, study_name=study_name, run_ids=run_ids,
                                            include_stale=include_stale, epsilon=epsilon)
    if not judges:
        raise InputError("none of the selected judge runs has scores on this study's pairs")
    indexes = sorted({int(v["question_id"]) for v in votes})
    lengths = response_lengths(session=session, indexes=indexes)
    result = agreement_study(votes, judges, n_resamples=n_resamples, seed=seed, split=split, test=test,
                             include_stale=include_stale, lengths=lengths, breakdown_by=list(BREAKDOWNS))
    design = study_vote_design(session=session, study_name=study_name, votes=votes)
    if design is not None:  # after an extension: rows and differences weighted by the design, as the CLI does
        apply_design(result, design, {name: j.pairs for name, j in judges.items()})
        notes.append("Rows and paired differences use the design-based estimator (the study was extended); "
                     "the other columns pool the votes.")
    else:
        result.settings["estimator"] = ESTIMATOR_POOLED
    rows = table4_rows(result)
    best = max((r for r in result.rows if r["agreement"] is not None), key=lambda r: r["agreement"], default=None)
    bias = [{"row": r["judge"], "position consistency": r["position_consistency"],
             "position bias (share first shown)": r["position_bias"],
             "length bias (share longer chosen)": r["length_bias"]} for r in result.rows]
    bias.append({"row": "human", "position consistency": None,
                 "position bias (share first shown)": result.human.get("position_bias"),
                 "length bias (share longer chosen)": result.human.get("length_bias")})
    downloads = {fmt: render(result, fmt=fmt) for fmt in FORMATS}
    return AgreementView(result=result, table_header=list(HEADER), table_rows=rows,
                         human_lines=human_lines(result.human, result.settings),
                         comparisons=result.comparisons, best=best["judge"] if best else None,
                         breakdowns=result.breakdowns, bias=bias, downloads=downloads, notes=notes)


def study_vote_design(*, session: Session, study_name: str, votes: list[dict]) -> pd.DataFrame | None:
    """The study's overall, current votes with their design (:func:`metaeval.stats.design.vote_design_frame`),
    or ``None`` when no vote belongs to an extension round."""
    from annotate.services.studies.lifecycle import get_study
    from annotate.services.studies.votes_export import _vote_designs, _with_design

    study = get_study(session=session, name=study_name)
    if votes and "task" not in votes[0]:  # the design joins on the task: the rows with their task id
        votes = votes_for_study(session=session, study_name=study_name, history=True)
    with_design = _with_design(votes, _vote_designs(session, study))
    return vote_design_frame(enumerate(with_design, start=1), source=f"study {study_name}")


def human_lines(human: dict, settings: dict) -> list[str]:
    """Sentences about the human votes and the settings, from the result's own fields
    (``AgreementResult.human`` and ``.settings``), for the page's summary.

    Example:
        >>> human_lines({"n_votes": 45, "n_pairs": 15, "n_queries": 15, "n_annotators": 3,
        ...              "vs_majority_of_others": 0.8, "alpha": {"nominal": 0.5, "ordinal": None},
        ...              "fleiss_kappa": 0.41}, {"n_resamples": 200, "seed": 0, "split": "half", "test": "bootstrap"})
        ... # doctest: +NORMALIZE_WHITESPACE
        ['Human votes: 45 on 15 pairs (15 queries, 3 annotators).',
         "Each annotator vs majority of the others: 80.0%; Krippendorff's alpha nominal 0.500, ordinal –;
          Fleiss' kappa 0.410.",
         'Bootstrap: 200 resamples of queries, seed 0; split votes -> half; p-values from bootstrap.']
    """
    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}"

    def num(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    h, alpha = human, human.get("alpha") or {}
    return [f"Human votes: {h['n_votes']} on {h['n_pairs']} pairs ({h['n_queries']} queries, "
            f"{h['n_annotators']} annotators).",
            f"Each annotator vs majority of the others: {pct(h.get('vs_majority_of_others'))}%; "
            f"Krippendorff's alpha nominal {num(alpha.get('nominal'))}, ordinal {num(alpha.get('ordinal'))}; "
            f"Fleiss' kappa {num(h.get('fleiss_kappa'))}.",
            f"Bootstrap: {settings['n_resamples']} resamples of queries, seed {settings['seed']}; "
            f"split votes -> {settings['split']}; p-values from {settings['test']}."]
