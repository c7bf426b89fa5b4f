"""The pointwise analysis (the Agreement page's mode for pointwise studies, and Audit's list):
the people's ratings of a study against imported judge runs.

Ratings come from :func:`annotate.services.judges.bridge.ratings_for_study`; each judge run's
score of a response is its mean criterion score
(:func:`annotate.services.judges.judge_runs.load_score_means`). Every statistic comes from
:mod:`metaeval.stats.correlation`: correlations with intervals at item, system and global level
(:func:`~metaeval.stats.correlation.correlation_table`), the people's ceiling
(:func:`~metaeval.stats.correlation.rater_ceiling`), paired comparisons of runs with Holm
(:func:`~metaeval.stats.correlation.paired_correlation_tests`) and breakdowns by domain and
language (:func:`~metaeval.stats.correlation.correlation_breakdown`); the downloads are
``metaeval correlation``'s report. This module only gathers inputs and reshapes results.

Example:
    >>> view = pointwise_view(session=s, actor=researcher, study_name="pw")     # doctest: +SKIP
    >>> view.table.columns[:3].tolist()                                          # doctest: +SKIP
    ['Judge run', 'Level', 'n']
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from annotate.db.models import PointwiseRating, User
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.bridge import ratings_for_study
from annotate.services.judges.judge_runs import list_runs, load_score_means
from metaeval.report.correlation import pointwise_sections
from metaeval.report.paper_tables import degenerate_correlation_warnings, render_correlation_report
from metaeval.stats.correlation import (
    LEVELS,
    correlation_breakdown,
    correlation_table,
    paired_correlation_tests,
    rater_ceiling,
)
from metaeval.stats.jsonable import json_ready

BREAKDOWN_FIELDS = {"domain1": "Domain", "lang": "Language"}
HUMAN_SCALE = (1, 5)
"""The rating page's scale (people)."""
JUDGE_SCALE = (1, 10)
"""WritingBench's criterion scale (judge runs)."""
SIDE_RESAMPLES = 200
"""At most this many resamples for the paired comparisons and the breakdowns (one table per group:
the page stays interactive); ``metaeval correlation`` on the exported ratings runs any number."""


@dataclass
class PointwiseView:
    """Plain data for the pointwise mode of the Agreement page.

    Attributes:
        table: one row per run and level: Judge run, Level, n, constant groups, and Pearson,
            Spearman, Kendall tau-b as "value [lo, hi]".
        rows: metaeval's correlation rows (numbers).
        ceiling: the people's ceiling (:func:`metaeval.stats.correlation.rater_ceiling`).
        comparisons: paired tests between runs (Holm within a level).
        breakdowns: field -> rows of the table per group of items.
        warnings: degenerate levels (item level with two systems per item ...).
        summary: sentences about the ratings and the settings.
        downloads: format -> the ``metaeval correlation`` report (json, markdown).
        notes: runs left out (no scores on the study's responses).
    """

    table: pd.DataFrame
    rows: list[dict]
    ceiling: dict
    comparisons: list[dict]
    breakdowns: dict[str, list[dict]]
    warnings: list[str]
    summary: list[str]
    downloads: dict[str, str]
    notes: list[str] = field(default_factory=list)


def ratings_version(*, session: Session) -> tuple:
    """A cheap fingerprint of the pointwise ratings, for caching a computed view."""
    return tuple(session.exec(select(func.count(col(PointwiseRating.id)), func.max(PointwiseRating.updated_at))).one())


def pointwise_inputs(*, session: Session, study_name: str, run_ids: list[int] | None = None,
                     include_stale: bool = False) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[str]]:
    """(people's ratings, {``method/judge``: scores}, notes) for a pointwise study and judge runs.

    Both frames have item_id (query index), system (model), criterion ("overall") and score; the
    people's also rater, domain1, domain2, lang. A run is kept when it scores at least one rated
    response.
    """
    rows = ratings_for_study(session=session, study_name=study_name, include_stale=include_stale)
    if not rows:
        raise InputError(f"study {study_name!r} has no ratings yet")
    human = pd.DataFrame(rows)
    rated = set(zip(human["item_id"].astype(int), human["system"], strict=True))
    runs = {r.run_id: r for r in list_runs(session=session, with_counts=False)}
    chosen = list(runs) if run_ids is None else [r for r in run_ids if r in runs]
    means = load_score_means(session=session, run_ids=chosen, include_stale=include_stale)
    judges: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for rid in chosen:
        sub = means[means["run_id"] == rid]
        keep = [(int(i), m) in rated for i, m in zip(sub["index"], sub["model"], strict=True)]
        sub = sub[keep]
        if sub.empty:
            notes.append(f"{runs[rid].label}: no scores on this study's rated responses (left out)")
            continue
        judges[runs[rid].label] = pd.DataFrame({"item_id": sub["index"].astype(int).to_numpy(),
                                                "system": sub["model"].to_numpy(), "criterion": "overall",
                                                "score": sub["score"].astype(float).to_numpy()})
        if len(sub) < len(rated):
            notes.append(f"{runs[rid].label}: scores on {len(sub)} of {len(rated)} rated responses")
    return human, judges, notes


def _cell(row: dict, m: str) -> str:
    def f(x: object) -> str:
        return "–" if x is None or (isinstance(x, float) and x != x) else f"{float(x):.3f}"  # type: ignore[arg-type]

    lo, hi = (row.get("ci") or {}).get(m) or (None, None)
    return f"{f(row[m])} [{f(lo)}, {f(hi)}]"


def correlation_frame(rows: list[dict]) -> pd.DataFrame:
    """metaeval's correlation rows as the page's table (text cells with intervals).

    Example:
        >>> row = {"judge": "m/j", "level": "item", "n": 3, "n_constant": 1, "pearson": 0.5, "spearman": 0.25,
        ...        "kendall": 0.2, "ci": {"pearson": [0.1, 0.9], "spearman": [0, 1], "kendall": [0, 0.4]}}
        >>> correlation_frame([row]).iloc[0, [0, 1, 4, 5, 6]].tolist()
        ['m/j', 'item', '0.500 [0.100, 0.900]', '0.250 [0.000, 1.000]', '0.200 [0.000, 0.400]']
    """
    return pd.DataFrame([[r["judge"], r["level"], r["n"], r["n_constant"], *(_cell(r, m) for m in
                                                                            ("pearson", "spearman", "kendall"))]
                         for r in rows],
                        columns=["Judge run", "Level", "n", "Constant groups", "Pearson [95% CI]",
                                 "Spearman [95% CI]", "Kendall tau-b [95% CI]"])


def pointwise_view(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
                   n_resamples: int = 1000, seed: int = 0, include_stale: bool = False,
                   compare_on: str = "pearson") -> PointwiseView:
    """Compute the pointwise analysis of a study (researcher/admin); see the module docstring.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        NotFound: no such study.
        InputError: the study has no ratings, or no selected run scores its rated responses.
    """
    require_role(actor, *MANAGERS)
    human, judges, notes = pointwise_inputs(session=session, study_name=study_name, run_ids=run_ids,
                                            include_stale=include_stale)
    if not judges:
        raise InputError("none of the selected judge runs has scores on this study's rated responses")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined statistics are shown as "–" and counted
        rows = correlation_table(human, judges, n_resamples=n_resamples, seed=seed)
        ceiling = rater_ceiling(human, n_resamples=n_resamples, seed=seed)
        side = min(n_resamples, SIDE_RESAMPLES)
        comparisons = (paired_correlation_tests(human, judges, method=compare_on, n_resamples=side, seed=seed)
                       if len(judges) > 1 else [])
        breakdowns = {f: correlation_breakdown(human, judges, by=f, n_resamples=side, seed=seed)
                      for f in BREAKDOWN_FIELDS}
    rows = [r for r in rows if r["criterion"] == "overall"]
    notes_degenerate = degenerate_correlation_warnings(human, list(LEVELS))
    settings = {"n_resamples": n_resamples, "seed": seed, "level": 0.95, "levels": list(LEVELS)}
    markdown = render_correlation_report(rows, settings, fmt="markdown", warnings=notes_degenerate, human=ceiling)
    extra = pointwise_sections(comparisons, [r for f in BREAKDOWN_FIELDS for r in breakdowns[f]], fmt="markdown")
    data = json.loads(render_correlation_report(rows, settings, fmt="json", warnings=notes_degenerate,
                                                human=ceiling))
    data["comparisons"] = json_ready(comparisons)
    data["breakdowns"] = json_ready([r for f in BREAKDOWN_FIELDS for r in breakdowns[f]])
    n_raters = int(human["rater"].nunique())
    summary = [f"People's ratings: {len(human)} on {human.groupby(['item_id', 'system']).ngroups} responses "
               f"({human['item_id'].nunique()} queries, {human['system'].nunique()} models, {n_raters} raters); "
               f"people rate 1-{HUMAN_SCALE[1]}, judges score 1-{JUDGE_SCALE[1]} (mean over criteria): "
               "correlations do not depend on the scale.",
               f"Bootstrap: {n_resamples} resamples of queries, seed {seed}; 95% intervals; paired comparisons "
               f"(on {compare_on}, Holm within each level) and breakdowns with {side} resamples."]
    return PointwiseView(table=correlation_frame(rows), rows=rows, ceiling=ceiling, comparisons=comparisons,
                         breakdowns=breakdowns, warnings=notes_degenerate, summary=summary,
                         downloads={"markdown": markdown + ("\n" + extra if extra else ""),
                                    "json": json.dumps(data, indent=2, ensure_ascii=False) + "\n"},
                         notes=notes)


def pointwise_disagreements(*, session: Session, actor: User | None, study_name: str,
                            run_ids: list[int] | None = None, include_stale: bool = False,
                            limit: int = 200) -> pd.DataFrame:
    """The rated responses where a judge run and the people differ most, largest gap first.

    Both sides are put on 0..1 (people: (mean rating - 1) / 4; judge: (mean score - 1) / 9) and
    ``gap`` = judge minus people; rows are sorted by the size of the gap. Columns: query, model,
    run, people (mean rating), raters, judge (mean score), gap, domain1, lang.

    Raises:
        PermissionDenied, NotFound, InputError: as :func:`pointwise_view`.
    """
    require_role(actor, *MANAGERS)
    human, judges, _ = pointwise_inputs(session=session, study_name=study_name, run_ids=run_ids,
                                        include_stale=include_stale)
    people = (human.groupby(["item_id", "system"])
              .agg(people=("score", "mean"), raters=("rater", "nunique"), domain1=("domain1", "first"),
                   lang=("lang", "first")).reset_index())
    parts = []
    for label, frame in judges.items():
        j = frame.groupby(["item_id", "system"])["score"].mean().rename("judge").reset_index()
        m = people.merge(j, on=["item_id", "system"], how="inner").assign(run=label)
        parts.append(m)
    columns = ["query", "model", "run", "people", "raters", "judge", "gap", "domain1", "lang"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    lo_h, hi_h = HUMAN_SCALE
    lo_j, hi_j = JUDGE_SCALE
    out["gap"] = (out["judge"] - lo_j) / (hi_j - lo_j) - (out["people"] - lo_h) / (hi_h - lo_h)
    out = out.rename(columns={"item_id": "query", "system": "model"})
    order = out["gap"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order, columns].head(limit).reset_index(drop=True)
