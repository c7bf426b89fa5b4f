"""The Agreement page's Rankings and Annotators tabs: plain frames and their downloads.

Rankings: :func:`metaeval.stats.rankings.rankings_study` on the study's votes and the judge
runs' verdicts (the inputs of :func:`annotate.services.judges.agreement_view.agreement_inputs`),
overall and by domain; Annotators: :func:`annotate.services.studies.competence.study_competence`.
Each frame behind a table or figure is offered as CSV and JSON (``downloads``: key ->
:class:`Download`). This module only gathers inputs and reshapes results.

Example:
    >>> view = rankings_view(session=s, actor=researcher, study_name="pilot")   # doctest: +SKIP
    >>> view.table.columns[:3].tolist()                                          # doctest: +SKIP
    ['source', 'model', 'strength']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session

from annotate.db.models import User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.agreement_view import agreement_inputs, study_vote_design
from annotate.services.studies.competence import study_competence
from metaeval import csv_safe
from metaeval.report.rankings import render_rankings
from metaeval.stats.rankings import RankingResult, rankings_study
from metaeval.stats.settings import COMPETENCE

#: The caption line of the Rankings and Annotators tabs when the study was extended (the fit uses the design).
ESTIMATOR_CAPTION = ("Estimator: design-based (the study was extended; the people's votes are weighted by the "
                     "extension's design, as the CLI does on the exported votes).")


def estimator_caption(estimator: object) -> str | None:
    """The tab's caption line for ``settings["estimator"]``: :data:`ESTIMATOR_CAPTION` when
    design-based, else ``None`` (pooled needs no line).

    >>> estimator_caption("pooled") is None
    True
    """
    return ESTIMATOR_CAPTION if estimator == "design-based" else None


TABLE_COLUMNS = ["source", "model", "strength", "ci_lo", "ci_hi", "rank", "rank_lo", "rank_hi", "elo", "n"]
VS_COLUMNS = ["judge", "statistic", "value", "ci_lo", "ci_hi"]


@dataclass(frozen=True)
class Download:
    """One download: file name, MIME type and text."""

    file_name: str
    mime: str
    data: str


def _downloads(stem: str, frame: pd.DataFrame) -> dict[str, Download]:
    records = json.loads(frame.to_json(orient="records", force_ascii=False))
    return {f"{stem}_csv": Download(f"{stem}.csv", "text/csv", csv_safe.frame_to_csv(frame)),
            f"{stem}_json": Download(f"{stem}.json", "application/json",
                                     json.dumps(records, indent=2, ensure_ascii=False) + "\n")}


def ranking_frame(rankings: dict, group: str | None = None) -> pd.DataFrame:
    """Tidy rows (source, model, strength, ci, rank, rank ci, Elo, n) of ``result.rankings``."""
    rows = []
    for source, d in rankings.items():
        for model, m in d["models"].items():
            rows.append({"source": source, "model": model, "strength": m["strength"], "ci_lo": m["ci"][0],
                         "ci_hi": m["ci"][1], "rank": m["rank"], "rank_lo": m["rank_ci"][0],
                         "rank_hi": m["rank_ci"][1], "elo": m["elo"], "n": m["n"]})
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if group is not None:
        frame.insert(0, "group", group)
    return frame


def vs_human_frame(vs_human: dict) -> pd.DataFrame:
    """One row per (judge, statistic): Kendall tau-b, Spearman, pair-order agreement with intervals."""
    rows = [{"judge": j, "statistic": k, "value": v[k]["value"], "ci_lo": v[k]["ci"][0], "ci_hi": v[k]["ci"][1]}
            for j, v in vs_human.items() for k in ("kendall_tau_b", "spearman", "pair_order_agreement")]
    return pd.DataFrame(rows, columns=VS_COLUMNS)


@dataclass
class RankingsView:
    """Plain data for the Rankings tab.

    Attributes:
        result: metaeval's full result (with ``by`` = domain groups).
        table: :func:`ranking_frame` of all queries (the table and the forest plot).
        vs_human: :func:`vs_human_frame`.
        by_domain: :func:`ranking_frame` per domain with a ``group`` column.
        downloads: key -> :class:`Download` (``rankings_csv``/``_json``, ``vs_human_*``,
            ``rankings_by_domain_*``, and metaeval's full report as ``report_csv``/``report_json``).
        notes: fit notes (no finite MLE etc.) and input notes.
    """

    result: RankingResult
    table: pd.DataFrame
    vs_human: pd.DataFrame
    by_domain: pd.DataFrame
    downloads: dict[str, Download]
    notes: list[str] = field(default_factory=list)


def rankings_view(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
                  n_resamples: int = 1000, seed: int = 0, epsilon: float = 0.0,
                  include_stale: bool = False) -> RankingsView:
    """Rankings by the people and by each judge run, overall and per domain (researcher/admin).

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound / InputError: no such study, or no votes.
    """
    require_role(actor, *MANAGERS)
    votes, judges, notes = agreement_inputs(session=session, study_name=study_name, run_ids=run_ids,
                                            include_stale=include_stale, epsilon=epsilon)
    # after an extension the people's fit is design-weighted, as `metaeval rankings` does on the exported votes
    design = None if include_stale else study_vote_design(session=session, study_name=study_name, votes=votes)
    try:
        result = rankings_study(votes, judges, n_resamples=n_resamples, seed=seed, include_stale=include_stale,
                                by="domain1", design=design)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    data = result.to_json_dict()
    table = ranking_frame(data["rankings"])
    vs = vs_human_frame(data["vs_human"])
    groups = (data.get("by") or {}).get("groups", {})
    by_domain = pd.concat([ranking_frame(g["rankings"], name) for name, g in groups.items()], ignore_index=True) \
        if groups else ranking_frame({}, "")
    for source, d in data["rankings"].items():
        if not d.get("finite_mle", True):
            notes.append(f"{source}: no finite maximum-likelihood strength for "
                         f"{', '.join(d.get('no_finite_mle') or []) or 'some models'}; fitted with virtual ties")
    downloads = {**_downloads("rankings", table), **_downloads("vs_human", vs),
                 **_downloads("rankings_by_domain", by_domain),
                 "report_csv": Download("rankings_report.csv", "text/csv", render_rankings(result, fmt="csv")),
                 "report_json": Download("rankings_report.json", "application/json",
                                         render_rankings(result, fmt="json"))}
    return RankingsView(result=result, table=table, vs_human=vs, by_domain=by_domain, downloads=downloads,
                        notes=notes)


@dataclass
class AnnotatorsView:
    """Plain data for the Annotators tab: ``table`` (one row per annotator: n, competence, ci,
    chance, flagged, gold), ``model``, ``flag_rule``, ``downloads`` (``annotators_csv``/``_json``),
    ``estimator`` (``"design-based"`` after an extension, else ``"pooled"``)."""

    table: pd.DataFrame
    model: str
    flag_rule: str
    downloads: dict[str, Download]
    estimator: str = "pooled"


def annotators_view(*, session: Session, actor: User | None, study_name: str, model: str = "dawid-skene",
                    n_resamples: int = COMPETENCE.n_resamples, seed: int = COMPETENCE.seed,
                    include_stale: bool = False) -> AnnotatorsView:
    """Competence of each annotator of a pairwise study (researcher/admin)."""
    require_role(actor, *MANAGERS)
    res = study_competence(session=session, study_name=study_name, model=model, n_resamples=n_resamples,
                           seed=seed, include_stale=include_stale)
    table = res.frame()
    estimator = str(res.settings.get("estimator", "pooled"))
    return AnnotatorsView(table=table, model=model, flag_rule=res.to_json_dict()["flag_rule"],
                          downloads=_downloads("annotators", table), estimator=estimator)
