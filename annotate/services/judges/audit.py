"""The judge-disagreement audit: where a judge run's verdict differs from the human majority.

*Human majority* of a pair is metaeval's plurality of the overall votes
(:func:`metaeval.stats.agreement.majority_outcome`; an exact split is a tie). A run's
*verdict* is the response with the higher mean criterion score
(:func:`metaeval.stats.verdicts.verdicts_from_scores`), its *margin* the difference of the
means (A minus B; A and B are the two responses in canonical order, models sorted by name).
The list holds every (pair, run) whose verdict differs from the majority, sorted by how
strongly the people agreed (share of votes with the majority, then the number of votes,
then the size of the margin).

Example:
    >>> rows = audit_rows(session=s, actor=researcher, study_name="pilot")   # doctest: +SKIP
    >>> list(rows.columns)[:4]                                                # doctest: +SKIP
    ['item_id', 'query', 'domain', 'subdomain']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from annotate.db.models import (
    Assignment,
    AuditTag,
    CriteriaSet,
    Criterion,
    Domain,
    JudgeRun,
    JudgeScore,
    Judgment,
    LLMModel,
    Query,
    Response,
    Study,
    StudyItem,
    Subdomain,
    User,
    id_of,
)
from annotate.services.content.content import current_instruction, current_materials
from annotate.services.content.requirements import Segment, highlight
from annotate.services.core.authz import require_role
from annotate.services.core.errors import NotFound
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import TaskStatus
from annotate.services.judges.agreement_view import run_verdicts
from annotate.services.judges.bridge import overall_votes_frame
from annotate.services.judges.judge_runs import list_runs, load_score_means
from metaeval.stats.agreement import majority_outcome, votes_frame

log = logging.getLogger(__name__)

LABEL = {1.0: "A", -1.0: "B", 0.0: "tie"}
LIST_COLUMNS = ["item_id", "query", "domain", "subdomain", "lang", "model_a", "model_b", "method", "judge",
                "human", "votes", "strength", "unanimous", "verdict", "margin", "cause"]


# --------------------------------------------------------------------------- list


def _items(session: Session, study_id: int) -> pd.DataFrame:
    ra, rb = aliased(Response), aliased(Response)
    ma, mb = aliased(LLMModel), aliased(LLMModel)
    stmt = (select(StudyItem.id, Query.index, ma.name, mb.name)
            .join(Query, col(Query.id) == StudyItem.query_id)
            .join(ra, col(ra.id) == StudyItem.response_a_id).join(rb, col(rb.id) == StudyItem.response_b_id)
            .join(ma, col(ma.id) == ra.model_id).join(mb, col(mb.id) == rb.model_id)
            .where(StudyItem.study_id == study_id, StudyItem.is_gold == False,  # noqa: E712
                   StudyItem.is_qualification == False))  # noqa: E712
    rows = [(i, str(q), min(a, b), max(a, b)) for i, q, a, b in session.exec(stmt).all()]
    return pd.DataFrame(rows, columns=["item_id", "qid", "lo", "hi"])


def human_majorities(votes: list[dict] | pd.DataFrame, *, split: str = "tie") -> pd.DataFrame:
    """Per pair: qid, lo, hi, majority (+1 A, -1 B, 0 tie), n_votes, n_majority, strength, domain1/2, lang.

    ``votes`` are FastChat votes (:func:`annotate.services.judges.bridge.votes_for_study` dicts or the
    :func:`annotate.services.judges.bridge.overall_votes_frame` DataFrame); per-criterion rows are left out.
    The majority comes from metaeval; the counts say how many votes back it.
    """
    if isinstance(votes, pd.DataFrame):
        overall = votes[votes["criterion"].isna()] if "criterion" in votes.columns else votes
    else:
        overall = [v for v in votes if v.get("criterion") is None]
    frame = votes_frame(overall)
    if frame.empty:
        return pd.DataFrame(columns=["qid", "lo", "hi", "majority", "n_votes", "n_majority", "strength",
                                     "domain1", "domain2", "lang"])
    # pair number in order of first appearance (a grouping is much faster than a MultiIndex factorize)
    pair_id = frame.groupby(["qid", "lo", "hi"], sort=False, observed=True).ngroup().to_numpy()
    out = frame[["qid", "lo", "hi"]].drop_duplicates().reset_index(drop=True)
    out["majority"] = majority_outcome(frame["outcome"].to_numpy(), pair_id, split=split)
    out["n_votes"] = np.bincount(pair_id, minlength=len(out))
    agree = frame["outcome"].to_numpy() == out["majority"].to_numpy()[pair_id]
    out["n_majority"] = np.bincount(pair_id, weights=agree, minlength=len(out)).astype(int)
    out["strength"] = out["n_majority"] / out["n_votes"]
    first = frame.groupby(pair_id).first()
    for key in ("domain1", "domain2", "lang"):
        out[key] = first[key].to_numpy()
    return out


def latest_causes(*, session: Session, item_ids: list[int] | None = None) -> dict[tuple[int, str, str], str]:
    """(item, judge, method) -> cause of its latest tag."""
    stmt = select(AuditTag.item_id, AuditTag.judge, AuditTag.method, AuditTag.cause).order_by(
        col(AuditTag.created_at), col(AuditTag.id))
    if item_ids is not None:
        stmt = stmt.where(col(AuditTag.item_id).in_(item_ids))
    return {(i, j, m): c for i, j, m, c in session.exec(stmt).all()}


@dataclass(frozen=True)
class AuditFilters:
    """Filters of the audit list; ``None`` or empty means no filter.

    ``min_margin``/``max_margin`` bound the absolute score margin; ``unanimous_only`` keeps
    pairs where every person chose the same.
    """

    judges: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    subdomains: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    min_margin: float | None = None
    max_margin: float | None = None
    unanimous_only: bool = False
    untagged_only: bool = False


_SEP = "\x1f"  # joins a run id to a model name; never part of a name


def _verdicts_per_run(scores: pd.DataFrame, pairs: pd.DataFrame, run_ids: list[int], *,
                      epsilon: float = 0.0) -> pd.DataFrame:
    """metaeval's verdicts of several runs in one call: run_id, qid, lo, hi, verdict, diff.

    Each run's models are renamed ``"<run id>\\x1f<model>"`` in its scores and in its copy of the
    pairs, so one :func:`~annotate.services.judges.agreement_view.run_verdicts` call gives every run's
    verdicts exactly as one call per run would (rows in run order, then pair order).
    """
    if not run_ids or pairs.empty:
        return pd.DataFrame(columns=["run_id", "qid", "lo", "hi", "verdict", "diff"])
    keyed = pd.DataFrame({"index": scores["index"], "model": scores["run_id"].astype(str) + _SEP + scores["model"],
                          "score": scores["score"]})
    copies = []
    for rid in run_ids:
        prefix = f"{rid}{_SEP}"
        copies.append(pd.DataFrame({"qid": pairs["qid"].to_numpy(), "lo": prefix + pairs["lo"].astype(str),
                                    "hi": prefix + pairs["hi"].astype(str)}))
    v = run_verdicts(keyed, pd.concat(copies, ignore_index=True), epsilon=epsilon)
    lo = v["lo"].str.partition(_SEP)
    return pd.DataFrame({"run_id": lo[0].astype(int), "qid": v["qid"], "lo": lo[2],
                         "hi": v["hi"].str.partition(_SEP)[2], "verdict": v["verdict"], "diff": v["diff"]})


def disagreement_table(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
                       split: str = "tie", epsilon: float = 0.0) -> pd.DataFrame:
    """Every (pair, run) disagreement of a study, unfiltered and untagged (the expensive part;
    pages cache it). Columns: :data:`LIST_COLUMNS` without ``cause``."""
    require_role(actor, *MANAGERS)
    study = session.exec(select(Study).where(Study.name == study_name)).first()
    if study is None:
        raise NotFound(f"no study named {study_name!r}")
    votes = overall_votes_frame(session=session, study_name=study_name)  # overall votes only, column-wise
    maj = human_majorities(votes, split=split)
    runs = {r.run_id: r for r in list_runs(session=session, with_counts=False)}  # names only
    chosen = [r for r in (run_ids if run_ids is not None else list(runs)) if r in runs]
    empty = pd.DataFrame(columns=[c for c in LIST_COLUMNS if c != "cause"])
    if maj.empty or not chosen:
        return empty
    maj = maj[~maj["majority"].isna()]
    pairs = maj[["qid", "lo", "hi"]]
    scores = load_score_means(session=session, run_ids=chosen)  # per-response means, summed in SQL
    v = _verdicts_per_run(scores, pairs, [r for r in chosen if r in set(scores["run_id"])], epsilon=epsilon)
    if v.empty:
        return empty
    v["judge"] = v["run_id"].map({rid: runs[rid].judge for rid in chosen})
    v["method"] = v["run_id"].map({rid: runs[rid].method for rid in chosen})
    df = v.drop(columns=["run_id"]).merge(maj, on=["qid", "lo", "hi"])
    df = df[df["verdict"] != df["majority"]]
    df = df.merge(_items(session, id_of(study)), on=["qid", "lo", "hi"], how="left")
    df["abs_margin"] = df["diff"].abs()
    df = df.sort_values(["strength", "n_votes", "abs_margin", "qid", "method", "judge"],
                        ascending=[False, False, False, True, True, True], kind="stable")
    out = pd.DataFrame({
        "item_id": df["item_id"].astype("Int64"), "query": df["qid"], "domain": df["domain1"],
        "subdomain": df["domain2"], "lang": df["lang"], "model_a": df["lo"], "model_b": df["hi"],
        "method": df["method"], "judge": df["judge"], "human": df["majority"].map(LABEL),
        "votes": df["n_majority"].astype(str) + "/" + df["n_votes"].astype(str),
        "strength": df["strength"].round(3), "unanimous": df["n_majority"] == df["n_votes"],
        "verdict": df["verdict"].map(LABEL), "margin": df["diff"].round(2),
    })
    return out.reset_index(drop=True)


def filter_disagreements(*, session: Session, table: pd.DataFrame, filters: AuditFilters | None = None) -> pd.DataFrame:
    """Apply :class:`AuditFilters` to a :func:`disagreement_table` and add each row's current ``cause``."""
    f = filters or AuditFilters()
    df = table
    for column, allowed in (("judge", f.judges), ("method", f.methods), ("domain", f.domains),
                            ("subdomain", f.subdomains), ("lang", f.langs)):
        if allowed:
            df = df[df[column].isin(allowed)]
    if f.unanimous_only:
        df = df[df["unanimous"]]
    if f.min_margin is not None:
        df = df[df["margin"].abs() >= f.min_margin]
    if f.max_margin is not None:
        df = df[df["margin"].abs() <= f.max_margin]
    df = df.copy()
    causes = latest_causes(session=session, item_ids=[int(i) for i in df["item_id"].dropna().unique()]) if len(df) else {}
    if causes:
        df["cause"] = [causes.get((int(i), j, m), "") if pd.notna(i) else ""
                       for i, j, m in zip(df["item_id"], df["judge"], df["method"], strict=True)]
    else:  # nothing tagged yet (the common case for a fresh study): no per-row lookups
        df["cause"] = [""] * len(df)
    if f.untagged_only:
        df = df[df["cause"] == ""]
    return df[LIST_COLUMNS].reset_index(drop=True)


def audit_rows(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
               filters: AuditFilters | None = None, split: str = "tie", epsilon: float = 0.0) -> pd.DataFrame:
    """Every (pair, judge run) whose verdict differs from the human majority; see the module docstring.

    Columns: :data:`LIST_COLUMNS` (``human``/``verdict`` are A, B or tie; ``votes`` like ``"3/3"``;
    ``margin`` = mean score of A minus B; ``cause`` the latest tag or "").
    """
    table = disagreement_table(session=session, actor=actor, study_name=study_name, run_ids=run_ids, split=split,
                               epsilon=epsilon)
    return filter_disagreements(session=session, table=table, filters=filters)


# --------------------------------------------------------------------------- detail


@dataclass(frozen=True)
class VoteView:
    """One person's vote on the pair (choice in canonical A/B terms)."""

    annotator: str
    choice: str
    both_poor: bool
    shown_left: str
    rationale: str
    elapsed_s: float | None
    per_criterion: dict[str, str]
    stale: bool


def _whole(score: float) -> float:
    """A stored score as shown: 7.0 as 7 (the column holds reals since migration 0010), 7.7125 as is."""
    return int(score) if float(score).is_integer() else float(score)


@dataclass(frozen=True)
class CriterionScores:
    """One criterion's scores and reasons for both responses; ``gap`` = A minus B."""

    position: int
    name: str
    score_a: float | None  # a whole number stays an int (WritingBench); a tow root is a real number
    reason_a: str
    score_b: float | None
    reason_b: str
    gap: float | None
    driver: bool = False


@dataclass(frozen=True)
class RunScores:
    """A judge run's view of the pair."""

    judge: str
    method: str
    mean_a: float | None
    mean_b: float | None
    verdict: str | None
    criteria: list[CriterionScores]

    @property
    def label(self) -> str:
        """``method/judge``."""
        return f"{self.method}/{self.judge}"


@dataclass
class AuditDetail:
    """Everything the auditor reads about one pair."""

    item_id: int
    study: str
    query_index: int
    domain1: str
    domain2: str
    lang: str
    instruction: str
    segments: list[Segment]
    criteria: list[tuple[str, str]]
    materials: list[tuple[str, str]]
    model_a: str
    model_b: str
    response_a: str
    response_b: str
    votes: list[VoteView]
    human: str | None
    runs: list[RunScores]
    tags: list[dict] = field(default_factory=list)

    @property
    def length_a(self) -> int:
        """Length of response A in characters."""
        return len(self.response_a)

    @property
    def length_b(self) -> int:
        """Length of response B in characters."""
        return len(self.response_b)


def dynamic_criteria(*, session: Session, query_id: int) -> list[tuple[str, str]]:
    """The query's own checklist (first dynamic set from its import): [(name, description)]."""
    cs = session.exec(select(CriteriaSet).where(CriteriaSet.query_id == query_id, CriteriaSet.method == "dynamic")
                      .order_by(col(CriteriaSet.id))).first()
    if cs is None:
        return []
    crits = session.exec(select(Criterion).where(Criterion.criteria_set_id == cs.id)
                         .order_by(col(Criterion.position)))
    return [(c.name, c.description) for c in crits]


def _run_scores(session: Session, resp_a: int, resp_b: int, outcome_of) -> list[RunScores]:  # noqa: ANN001
    rows = session.exec(select(JudgeScore, JudgeRun.judge, JudgeRun.method)
                        .join(JudgeRun, col(JudgeRun.id) == JudgeScore.run_id)
                        .where(col(JudgeScore.response_id).in_([resp_a, resp_b]))).all()
    by_run: dict[tuple[str, str], dict[int, dict[str, JudgeScore]]] = {}
    for score, judge, method in rows:
        by_run.setdefault((method, judge), {}).setdefault(score.response_id, {})[score.criterion] = score
    out = []
    for (method, judge), per in sorted(by_run.items()):
        a, b = per.get(resp_a, {}), per.get(resp_b, {})
        # every name is scored on a or b: a's score when there is one, else b's
        names = sorted(set(a) | set(b), key=lambda n: ((a.get(n) or b[n]).position, n))
        crits = []
        for name in names:
            sa, sb = a.get(name), b.get(name)
            gap = float(sa.score - sb.score) if sa and sb else None
            crits.append(CriterionScores((sa or b[name]).position, name, _whole(sa.score) if sa else None,
                                         sa.reason if sa else "", _whole(sb.score) if sb else None,
                                         sb.reason if sb else "", gap))
        mean_a = float(np.mean([s.score for s in a.values()])) if a else None
        mean_b = float(np.mean([s.score for s in b.values()])) if b else None
        verdict = outcome_of(mean_a, mean_b)
        gaps = [c.gap for c in crits if c.gap is not None]
        if gaps:
            sign = {"A": 1.0, "B": -1.0}.get(verdict or "", 0.0)
            def pull(gap: float, sign: float = sign) -> float:
                return gap * sign if sign else abs(gap)

            best = max(gaps, key=pull)
            marked = False
            for i, c in enumerate(crits):
                if c.gap == best and not marked and best != 0:
                    crits[i] = CriterionScores(**{**c.__dict__, "driver": True})
                    marked = True
        out.append(RunScores(judge, method, mean_a, mean_b, verdict, crits))
    return out


RowT = TypeVar("RowT", bound=SQLModel)


def _referenced(row: RowT | None, what: str, key: int) -> RowT:
    """``row``, the target of a foreign key; ``NotFound`` naming it if the row is missing.

    Example: ``_referenced(session.get(Query, 7), "query", 7)`` is the query, or raises
    ``NotFound("no query 7 (referenced by the study item)")``.
    """
    if row is None:
        raise NotFound(f"no {what} {key} (referenced by the study item)")
    return row


def audit_detail(*, session: Session, actor: User | None, item_id: int, epsilon: float = 0.0,
                 split: str = "tie") -> AuditDetail:
    """The audit detail of one study item (see :class:`AuditDetail`)."""
    from metaeval.stats.verdicts import outcome_from_difference

    require_role(actor, *MANAGERS)
    item = session.get(StudyItem, item_id)
    if item is None or item.response_b_id is None:
        raise NotFound(f"no pairwise study item {item_id}")
    study = _referenced(session.get(Study, item.study_id), "study", item.study_id)
    query = _referenced(session.get(Query, item.query_id), "query", item.query_id)
    sub = _referenced(session.get(Subdomain, query.subdomain_id), "subdomain", query.subdomain_id)
    dom = _referenced(session.get(Domain, sub.domain_id), "domain", sub.domain_id)
    ra = _referenced(session.get(Response, item.response_a_id), "response", item.response_a_id)
    rb = _referenced(session.get(Response, item.response_b_id), "response", item.response_b_id)
    ma = _referenced(session.get(LLMModel, ra.model_id), "model", ra.model_id)
    mb = _referenced(session.get(LLMModel, rb.model_id), "model", rb.model_id)
    swap = ma.name > mb.name
    if swap:  # show in canonical order (models sorted by name)
        ra, rb, ma, mb = rb, ra, mb, ma
    flip = {"a": "b", "b": "a"} if swap else {}

    query_id = id_of(query)
    instruction = current_instruction(session=session, query_id=query_id).text
    criteria = dynamic_criteria(session=session, query_id=query_id)
    materials = [(doc.title, text) for doc, text in current_materials(session=session, query_id=query_id)]

    votes = []
    stmt = (select(Judgment, Assignment.shown_left, User.username)
            .join(Assignment, col(Assignment.id) == Judgment.assignment_id)
            .join(User, col(User.id) == Assignment.annotator_id)
            .where(Assignment.item_id == item_id, Assignment.status != TaskStatus.SUPERSEDED).order_by(User.username))
    names = {"a": "A", "b": "B", "tie": "tie"}
    for j, shown_left, username in session.exec(stmt).all():
        votes.append(VoteView(
            annotator=username, choice=names[flip.get(j.winner, j.winner)], both_poor=bool(j.both_poor),
            shown_left=names[flip.get(shown_left, shown_left)], rationale=j.rationale, elapsed_s=j.elapsed_s,
            per_criterion={k: names.get(flip.get(v, v), v) for k, v in (j.per_criterion or {}).items()},
            stale=bool(j.stale) or j.content_revision < query.content_revision))
    human = None
    live = [v for v in votes if not v.stale]
    if live:
        code = {"A": 1, "B": -1, "tie": 0}
        m = majority_outcome([code[v.choice] for v in live], [0] * len(live), split=split)[0]
        human = LABEL.get(float(m))

    def outcome_of(a: float | None, b: float | None) -> str | None:
        if a is None or b is None:
            return None
        return LABEL[float(outcome_from_difference([a - b], epsilon=epsilon)[0])]

    runs = _run_scores(session, id_of(ra), id_of(rb), outcome_of)
    from annotate.services.judges.audit_tags import tags_for_item

    return AuditDetail(
        item_id=item_id, study=study.name, query_index=query.index, domain1=dom.name, domain2=sub.name,
        lang=query.lang, instruction=instruction, segments=highlight(instruction, criteria), criteria=criteria,
        materials=materials, model_a=ma.name, model_b=mb.name, response_a=ra.text, response_b=rb.text,
        votes=votes, human=human, runs=runs, tags=tags_for_item(session=session, item_id=item_id))
