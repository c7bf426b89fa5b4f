"""Progress and quality of a study, for researchers and admins.

Everything here reads the database and returns plain data; the dashboard page draws it.
Statistics use the overall judgment of real items (qualification items are left out;
gold items count for completion and gold accuracy, not for agreement):

* completion by annotator and by subdomain;
* median seconds per judgment (since first shown in the browser session) and median *active*
  seconds per answer, per annotator and per subdomain (tab visible and input within the last
  N seconds, summed over reloads of one showing: :mod:`annotate.services.annotate.active_time`);
* per annotator: tie rate (ties / judgments), left-choice rate (choices of the left
  response / non-tie judgments; 0.5 means no position bias), gold accuracy, and the rate
  at which they disagree with the other annotators of the same pairs;
* Krippendorff's alpha (``krippendorff`` package), nominal and ordinal, over annotators x
  pairs with b-wins = -1, tie = 0, a-wins = +1 (pointwise: the 1-5 scores);
* per annotator of a pairwise study: competence (Dawid–Skene probability that their label is
  the true one, with a bootstrap interval) and a flag when their votes cannot be told apart
  from random (:mod:`annotate.services.studies.competence`, :mod:`metaeval.stats.annotators`);
* split pairs (not unanimous) for adjudication, whose resolved label is kept apart from
  the votes in :class:`~annotate.db.models.Adjudication`.

Example:
    >>> dash = study_dashboard(session=s, actor=researcher, study_name="pilot")  # doctest: +SKIP
    >>> dash.alpha_nominal                                                        # doctest: +SKIP
    0.61
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal, TypeVar

import numpy as np
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from annotate.db.models import (
    Adjudication,
    Assignment,
    Domain,
    Judgment,
    PointwiseRating,
    Query,
    StudyItem,
    Subdomain,
    User,
    id_of,
    utcnow,
)
from annotate.services.annotate.judgments import FLAGS
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError, NotFound
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import StudyKind, TaskStatus
from annotate.services.core.taxonomy import SelectT, join_taxonomy
from annotate.services.studies.competence import study_competence
from annotate.services.studies.lifecycle import get_study
from metaeval.stats.settings import COMPETENCE

#: bootstrap resamples of the competence intervals: the same settings as ``metaeval annotators``
COMPETENCE_RESAMPLES = COMPETENCE.n_resamples
VALUE = {"b": -1, "tie": 0, "a": 1}
Level = Literal["nominal", "ordinal", "interval", "ratio"]
UnitT = TypeVar("UnitT", bound=Hashable)


# --------------------------------------------------------------------------- pure statistics


def krippendorff_alpha(votes: Mapping[UnitT, Mapping[str, float]], level: Level = "nominal",
                       value_domain: list[float] | None = None) -> float:
    """Krippendorff's alpha of ``{unit: {rater: value}}``; ``nan`` when undefined.

    Example: two raters agree on two of three units. By hand, the coincidence matrix has
    6 pairable values (three +1, three -1) and 2 disagreeing ordered pairs, so nominal
    alpha = 1 - D_o / D_e = 1 - (2/6) / (2*3*3 / (6*5)) = 1 - 0.3333/0.6 = 0.4444:
        >>> round(krippendorff_alpha({1: {"x": 1, "y": 1}, 2: {"x": -1, "y": -1},
        ...                           3: {"x": 1, "y": -1}}), 4)
        0.4444
    """
    raters = sorted({r for unit in votes.values() for r in unit})
    units = [u for u in votes if len(votes[u]) >= 2]
    if len(raters) < 2 or not units:
        return math.nan
    data = np.full((len(raters), len(units)), np.nan)
    index = {r: i for i, r in enumerate(raters)}
    for j, unit in enumerate(units):
        for rater, value in votes[unit].items():
            data[index[rater], j] = value
    if len(np.unique(data[~np.isnan(data)])) < 2:
        # every value identical: agreement is perfect but alpha is 0/0
        return math.nan
    import krippendorff

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level,
                                             value_domain=value_domain))
        except (ValueError, ZeroDivisionError):
            return math.nan


def disagreement_rates(votes: Mapping[UnitT, Mapping[str, str | int]]) -> dict[str, tuple[float, int]]:
    """Per rater: share of comparisons with another rater of the same unit that differ.

    Returns ``{rater: (rate, n_comparisons)}``.

    Example: unit 1 has x=a, y=a, z=b; unit 2 has x=a, z=a. x is compared 3 times and
    differs once (with z on unit 1):
        >>> disagreement_rates({1: {"x": "a", "y": "a", "z": "b"}, 2: {"x": "a", "z": "a"}})["x"]
        (0.3333333333333333, 3)
    """
    diff: Counter = Counter()
    total: Counter = Counter()
    for unit in votes.values():
        for (r1, v1), (r2, v2) in combinations(sorted(unit.items()), 2):
            total[r1] += 1
            total[r2] += 1
            if v1 != v2:
                diff[r1] += 1
                diff[r2] += 1
    return {r: (diff[r] / total[r], total[r]) for r in sorted(total)}


def left_choice_rate(choices: list[str]) -> float:
    """Share of ``left`` among the non-tie choices (``nan`` if there are none).

    Example:
        >>> left_choice_rate(["left", "left", "right", "tie"])
        0.6666666666666666
    """
    sided = [c for c in choices if c != "tie"]
    return sum(c == "left" for c in sided) / len(sided) if sided else math.nan


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class _Vote:
    item_id: int
    annotator: str
    value: str | int  # a|b|tie or a 1-5 score
    side: str  # left|right|tie ("" for pointwise)
    elapsed_s: float | None
    is_gold: bool
    gold_winner: str | None
    active_s: float | None = None  # active seconds of the showing the answer came from (None: not measured)


@dataclass(frozen=True)
class AnnotatorStats:
    """One annotator's figures (rates are fractions in 0..1, ``nan`` when undefined)."""

    annotator: str
    done: int
    total: int
    median_elapsed_s: float
    tie_rate: float
    left_rate: float
    gold_n: int
    gold_accuracy: float
    disagreement: float
    n_comparisons: int
    competence: float = math.nan
    competence_ci: tuple[float, float] = (math.nan, math.nan)
    flagged: bool | None = None
    median_active_s: float = math.nan
    """Median active seconds per answer (tab visible, recent input; ``nan``: none measured)."""


@dataclass(frozen=True)
class SplitItem:
    """A pair whose annotators did not all agree, with any adjudicated label."""

    item_id: int
    query_index: int
    domain2: str
    counts: dict[str, int]
    majority: str | None
    adjudicated: str | None
    note: str


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows for one study."""

    study_name: str
    kind: str
    done: int
    total: int
    by_annotator: list[AnnotatorStats]
    by_subdomain: list[dict] = field(default_factory=list)
    median_elapsed_s: float = math.nan
    alpha_nominal: float = math.nan
    alpha_ordinal: float = math.nan
    most_disagreeing: list[tuple[str, float]] = field(default_factory=list)
    split_items: list[SplitItem] = field(default_factory=list)
    median_active_s: float = math.nan
    active_by_subdomain: list[dict] = field(default_factory=list)
    """``{"domain1", "domain2", "median_active_s"}`` per subdomain (``nan``: none measured)."""


def _current_answers(stmt: SelectT, study_id: int) -> SelectT:
    """``stmt`` over an answer table already joined to its assignment, joined to the study item
    and annotator, keeping the study's current (not superseded) assignments of non-qualification
    items."""
    return (stmt.join(StudyItem, col(StudyItem.id) == Assignment.item_id)
            .join(User, col(User.id) == Assignment.annotator_id)
            .where(col(Assignment.study_id) == study_id, col(Assignment.status) != TaskStatus.SUPERSEDED,
                   col(StudyItem.is_qualification) == False))  # noqa: E712


def _votes(session: Session, study_id: int, kind: str) -> list[_Vote]:
    if kind == StudyKind.POINTWISE:
        ratings = session.execute(_current_answers(
            sa_select(PointwiseRating, col(Assignment.shown_left), col(User.username), col(Assignment.item_id),
                      col(StudyItem.is_gold), col(StudyItem.gold_winner))
            .join(Assignment, col(Assignment.id) == PointwiseRating.assignment_id), study_id)).all()
        return [_Vote(item_id, username, rating.score, "", rating.elapsed_s, is_gold, gold_winner,
                      rating.active_s)
                for rating, _shown_left, username, item_id, is_gold, gold_winner in ratings]
    judgments = session.execute(_current_answers(
        sa_select(Judgment, col(Assignment.shown_left), col(User.username), col(Assignment.item_id),
                  col(StudyItem.is_gold), col(StudyItem.gold_winner))
        .join(Assignment, col(Assignment.id) == Judgment.assignment_id), study_id)).all()
    out = []
    for row, shown_left, username, item_id, is_gold, gold_winner in judgments:
        side = "tie" if row.winner == "tie" else ("left" if row.winner == shown_left else "right")
        out.append(_Vote(item_id, username, row.winner, side, row.elapsed_s, is_gold, gold_winner, row.active_s))
    return out


def _completion(session: Session, study_id: int,
                votes: list[_Vote]) -> tuple[dict[str, tuple[int, int]], list[dict], list[dict]]:
    """Done and total tasks per annotator and per subdomain, and the median active seconds of
    each subdomain's ``votes``."""
    rows = session.execute(join_taxonomy(  # five columns: more than sqlmodel's select() is typed for
        sa_select(col(User.username), col(Assignment.status), col(Subdomain.name), col(Domain.name),
                  col(Assignment.item_id))
        .join(User, col(User.id) == Assignment.annotator_id)
        .join(StudyItem, col(StudyItem.id) == Assignment.item_id)
        .join(Query, col(Query.id) == StudyItem.query_id))
        .where(col(Assignment.study_id) == study_id, col(Assignment.status) != TaskStatus.SUPERSEDED)
    ).all()
    by_user: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_sub: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    sub_of: dict[int, tuple[str, str]] = {}
    for username, status, d2, d1, item_id in rows:
        sub_of[item_id] = (d1, d2)
        done = int(status == TaskStatus.DONE)
        by_user[username][0] += done
        by_user[username][1] += 1
        by_sub[(d1, d2)][0] += done
        by_sub[(d1, d2)][1] += 1
    active: dict[tuple[str, str], list[float]] = defaultdict(list)
    for vote in votes:
        if vote.active_s is not None and vote.item_id in sub_of:
            active[sub_of[vote.item_id]].append(vote.active_s)
    subs = [{"domain1": d1, "domain2": d2, "done": v[0], "total": v[1], "share": v[0] / v[1]}
            for (d1, d2), v in sorted(by_sub.items())]
    timed = [{"domain1": d1, "domain2": d2, "median_active_s": _median(active[(d1, d2)])} for d1, d2 in sorted(by_sub)]
    return {u: (v[0], v[1]) for u, v in by_user.items()}, subs, timed


def study_dashboard(*, session: Session, actor: User | None, study_name: str) -> Dashboard:
    """Completion, timing, position bias, gold accuracy, agreement and split pairs of a study."""
    require_role(actor, *MANAGERS)
    study = get_study(session=session, name=study_name)
    study_id = id_of(study)
    votes = _votes(session, study_id, study.kind)
    completion, subs, timed = _completion(session, study_id, votes)
    real = [v for v in votes if not v.is_gold]
    by_unit: dict[int, dict[str, str | int]] = defaultdict(dict)
    for v in real:
        by_unit[v.item_id][v.annotator] = v.value
    disagreement = disagreement_rates(by_unit)
    if study.kind == StudyKind.POINTWISE:
        numeric = {u: {r: float(s) for r, s in d.items()} for u, d in by_unit.items()}
        alpha_nom = krippendorff_alpha(numeric, "nominal", [1, 2, 3, 4, 5])
        alpha_ord = krippendorff_alpha(numeric, "ordinal", [1, 2, 3, 4, 5])
    else:
        # a pairwise vote's value is its choice, a|b|tie (str() only tells mypy so)
        numeric = {u: {r: float(VALUE[str(w)]) for r, w in d.items()} for u, d in by_unit.items()}
        alpha_nom = krippendorff_alpha(numeric, "nominal", [-1, 0, 1])
        alpha_ord = krippendorff_alpha(numeric, "ordinal", [-1, 0, 1])

    comp = _competence(session, study.name) if study.kind == StudyKind.PAIRWISE else {}
    stats = []
    for user in sorted(completion):
        mine = [v for v in votes if v.annotator == user]
        mine_real = [v for v in mine if not v.is_gold]
        gold = [v for v in mine if v.is_gold and v.gold_winner is not None]
        sides = [v.side for v in mine_real if v.side]
        rate, n_cmp = disagreement.get(user, (math.nan, 0))
        stats.append(AnnotatorStats(
            annotator=user, done=completion[user][0], total=completion[user][1],
            median_elapsed_s=_median([v.elapsed_s for v in mine if v.elapsed_s is not None]),
            tie_rate=(sum(s == "tie" for s in sides) / len(sides)) if sides else math.nan,
            left_rate=left_choice_rate(sides),
            gold_n=len(gold),
            gold_accuracy=(sum(v.value == v.gold_winner for v in gold) / len(gold)) if gold else math.nan,
            disagreement=rate, n_comparisons=n_cmp,
            **comp.get(user, {}),
            median_active_s=_median([v.active_s for v in mine if v.active_s is not None]),
        ))
    most = sorted(((u, r) for u, (r, _n) in disagreement.items()), key=lambda t: (-t[1], t[0]))
    done = sum(d for d, _ in completion.values())
    total = sum(t for _, t in completion.values())
    return Dashboard(
        study_name=study.name, kind=study.kind, done=done, total=total, by_annotator=stats,
        by_subdomain=subs, median_elapsed_s=_median([v.elapsed_s for v in votes if v.elapsed_s is not None]),
        median_active_s=_median([v.active_s for v in votes if v.active_s is not None]), active_by_subdomain=timed,
        alpha_nominal=alpha_nom, alpha_ordinal=alpha_ord, most_disagreeing=most,
        split_items=split_items(session=session, actor=actor, study_name=study_name) if study.kind == StudyKind.PAIRWISE
        else [],
    )


def _competence(session: Session, study_name: str) -> dict[str, dict]:
    """username -> competence fields of :class:`AnnotatorStats` (empty before any vote)."""
    try:
        res = study_competence(session=session, study_name=study_name, n_resamples=COMPETENCE_RESAMPLES,
                               seed=COMPETENCE.seed)
    except (InputError, ValueError):
        return {}
    return {name: {"competence": a["competence"], "competence_ci": tuple(a["ci"]), "flagged": a["flagged"]}
            for name, a in res.annotators.items()}


def split_items(*, session: Session, actor: User | None, study_name: str) -> list[SplitItem]:
    """Pairs with at least two votes that are not unanimous, with their adjudication if any.

    ``majority`` is the choice with a strict majority of the votes, else ``None``.
    """
    require_role(actor, *MANAGERS)
    study = get_study(session=session, name=study_name)
    counts: dict[int, Counter] = defaultdict(Counter)
    for v in _votes(session, id_of(study), study.kind):
        if not v.is_gold:
            counts[v.item_id][v.value] += 1
    split = {i: c for i, c in counts.items() if sum(c.values()) >= 2 and len(c) > 1}
    if not split:
        return []
    info = {iid: (idx, d2) for iid, idx, d2 in session.exec(
        select(StudyItem.id, Query.index, Subdomain.name)
        .join(Query, col(Query.id) == StudyItem.query_id).join(Subdomain, col(Subdomain.id) == Query.subdomain_id)
        .where(col(StudyItem.id).in_(list(split)))).all()}
    adjudications = {a.item_id: a for a in session.exec(
        select(Adjudication).where(col(Adjudication.item_id).in_(list(split)))).all()}
    out = []
    for item_id in sorted(split, key=lambda i: info[i][0]):
        c = split[item_id]
        n = sum(c.values())
        top, top_n = c.most_common(1)[0]
        adj = adjudications.get(item_id)
        out.append(SplitItem(item_id, info[item_id][0], info[item_id][1],
                             {k: c.get(k, 0) for k in ("a", "b", "tie")},
                             top if top_n * 2 > n else None,
                             adj.winner if adj else None, adj.note if adj else ""))
    return out


def record_adjudication(*, session: Session, actor: User | None, item_id: int, winner: str,
                        note: str = "") -> Adjudication:
    """Record (or replace) the resolved label of a pair, kept apart from the votes."""
    researcher_id = id_of(require_role(actor, *MANAGERS))
    if winner not in ("a", "b", "tie"):
        raise InputError(f"winner must be a, b or tie, not {winner!r}", field="winner")
    if session.get(StudyItem, item_id) is None:
        raise NotFound(f"no study item {item_id}")
    adj = session.exec(select(Adjudication).where(Adjudication.item_id == item_id)).first()
    if adj is None:
        adj = Adjudication(item_id=item_id, winner=winner, note=note or "", researcher_id=researcher_id)
    else:
        adj.winner, adj.note, adj.researcher_id, adj.created_at = winner, note or "", researcher_id, utcnow()
    session.add(adj)
    session.commit()
    return adj


@dataclass(frozen=True)
class FlagCounts:
    """How often annotators flagged a study's judgments.

    ``per_flag`` maps every flag name to its number of judgments (zeros included);
    ``per_query`` has one row per flagged query, ``{"query": index, <flag>: count, ...,
    "total": flags on the query}``, by query index. Current tasks only (no superseded task,
    no qualification item).
    """

    per_flag: dict[str, int]
    per_query: list[dict]


def flag_counts(*, session: Session, actor: User | None, study_name: str) -> FlagCounts:
    """Counts of annotators' flags per flag and per query of a pairwise study (a pointwise
    study has no flags: all zero).

    Example:
        >>> flag_counts(session=s, actor=researcher, study_name="pilot").per_flag   # doctest: +SKIP
        {'query_problem': 2, 'response_cut_off': 0, 'needs_expert': 1}
    """
    require_role(actor, *MANAGERS)
    study = get_study(session=session, name=study_name)
    rows = session.execute(_current_answers(
        sa_select(col(Judgment.flags), col(Query.index))
        .join(Assignment, col(Assignment.id) == Judgment.assignment_id), id_of(study))
        .join(Query, col(Query.id) == StudyItem.query_id)).all()
    per_flag = dict.fromkeys(FLAGS, 0)
    by_query: dict[int, Counter[str]] = defaultdict(Counter)
    for flags, index in rows:
        for flag in flags or []:
            per_flag[flag] = per_flag.get(flag, 0) + 1
            by_query[int(index)][flag] += 1
    per_query = [{"query": index, **{f: counts.get(f, 0) for f in per_flag}, "total": sum(counts.values())}
                 for index, counts in sorted(by_query.items())]
    return FlagCounts(per_flag, per_query)
