"""Criteria views for researchers: criterion-level alignment and the criteria comparison.

*Criterion-level alignment* (studies that asked people per criterion): each person's choice
on a criterion is compared with the judge's score difference on the same criterion (the
judge's per-criterion verdict: A when A scored higher, B when lower, tie when equal). Judge
criteria are matched to the people's by name within the query, so this applies to runs
scored with the query's own (dynamic) criteria. All numbers come from one
:func:`metaeval.stats.agreement_study.agreement_study` call in which each (query, criterion) is a unit
(its intervals resample (query, criterion) units), broken down by criterion position,
criterion name and domain.

*Criteria comparison* for one query: its dynamic checklist, the static global set and the
static set of its domain side by side, and which of the query's requirements each set
mentions (:mod:`annotate.services.content.requirements`).

Example:
    >>> al = criterion_alignment(session=s, actor=researcher, study_name="pilot")  # doctest: +SKIP
    >>> al.by_position.columns.tolist()[:3]                                         # doctest: +SKIP
    ['criterion', 'judge', 'n']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pandas as pd
from sqlmodel import Session, col, select

from annotate.db.models import CriteriaSet, Criterion, Domain, Query, Subdomain, User, id_of
from annotate.services.content.content import current_instruction
from annotate.services.content.requirements import Requirement, coverage, requirements
from annotate.services.core.authz import require_role
from annotate.services.core.errors import NotFound
from annotate.services.core.roles import MANAGERS
from annotate.services.judges.bridge import votes_for_study
from annotate.services.judges.judge_runs import list_runs, load_scores
from metaeval.criteria import load_static_domain, load_static_global
from metaeval.criteria.methods import MethodOptions, get_method, method_names
from metaeval.stats.agreement_study import JudgeVerdicts, agreement_study
from metaeval.stats.verdicts import verdicts_from_scores


@dataclass
class CriterionAlignment:
    """Per-criterion agreement of judges with people.

    ``overall``: one row per judge (n votes, agreement, interval); ``by_position`` / ``by_domain``
    / ``by_name``: metaeval breakdown frames (group, column=judge, n, agreement, lo, hi);
    ``worst``: the criterion names with the lowest agreement (at least 2 votes).
    """

    overall: pd.DataFrame
    by_position: pd.DataFrame
    by_domain: pd.DataFrame
    by_name: pd.DataFrame
    worst: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _dynamic_positions(session: Session, indexes: list[int]) -> dict[tuple[str, str], int]:
    """(query index as text, criterion name) -> position in the query's first dynamic set."""
    out: dict[tuple[str, str], int] = {}
    stmt = (select(Query.index, CriteriaSet.id, Criterion.name, Criterion.position)
            .join(CriteriaSet, col(CriteriaSet.query_id) == Query.id)
            .join(Criterion, col(Criterion.criteria_set_id) == CriteriaSet.id)
            .where(CriteriaSet.method == "dynamic", col(Query.index).in_(indexes))
            .order_by(col(Query.index), col(CriteriaSet.id), col(Criterion.position)))
    first_set: dict[int, int] = {}
    for index, set_id, name, position in session.exec(stmt).all():
        # a stored row's primary key is never NULL (SQLModel types it int | None for unsaved rows)
        if first_set.setdefault(index, cast(int, set_id)) == set_id:
            out.setdefault((str(index), name), position)
    return out


def criterion_alignment(*, session: Session, actor: User | None, study_name: str, run_ids: list[int] | None = None,
                        n_resamples: int = 500, seed: int = 0) -> CriterionAlignment | None:
    """Criterion-level alignment (see the module docstring); ``None`` when the study has no
    per-criterion votes or no run scores the same criteria."""
    require_role(actor, *MANAGERS)
    crit_votes = [v for v in votes_for_study(session=session, study_name=study_name) if v.get("criterion")]
    if not crit_votes:
        return None
    positions = _dynamic_positions(session, sorted({int(v["question_id"]) for v in crit_votes}))
    human, unit_name, unit_pos = [], {}, {}
    for v in crit_votes:
        unit = f"{v['question_id']}#{v['criterion']}"
        pos = positions.get((str(v["question_id"]), v["criterion"]))
        unit_name[unit] = v["criterion"]
        unit_pos[unit] = f"criterion {pos + 1}" if pos is not None else "criterion ?"
        human.append({**{k: val for k, val in v.items() if k != "criterion"}, "question_id": unit})
    pairs = pd.DataFrame([{"qid": v["question_id"], "lo": min(v["model_a"], v["model_b"]),
                           "hi": max(v["model_a"], v["model_b"])} for v in human]).drop_duplicates()
    runs = {r.run_id: r for r in list_runs(session=session)}
    chosen = [r for r in (run_ids if run_ids is not None else list(runs)) if r in runs]
    scores = load_scores(session=session, run_ids=chosen)
    judges: dict[str, JudgeVerdicts] = {}
    notes: list[str] = []
    for rid in chosen:
        sub = scores[scores["run_id"] == rid]
        units = sub["index"].astype(str) + "#" + sub["criterion"]
        sub = sub.assign(index=units)[units.isin(unit_name)]
        if sub.empty:
            notes.append(f"{runs[rid].label}: no criterion shared with the people's per-criterion choices")
            continue
        judges[runs[rid].label] = JudgeVerdicts(pairs=verdicts_from_scores(sub[["index", "model", "score"]], pairs))
    if not judges:
        return CriterionAlignment(overall=pd.DataFrame(), by_position=pd.DataFrame(), by_domain=pd.DataFrame(),
                                  by_name=pd.DataFrame(), worst=pd.DataFrame(), notes=notes)
    res = agreement_study(human, judges, n_resamples=n_resamples, seed=seed,
                          breakdown_keys={"position": unit_pos, "name": unit_name}, breakdown_by=["position", "domain1", "name"])
    overall = pd.DataFrame([{"judge": r["judge"], "n": r["n_votes"], "agreement": r["agreement"],
                             "lo": r["ci"][0], "hi": r["ci"][1], "kappa": r["kappa"]} for r in res.rows])
    by_name = res.breakdowns["name"]
    worst = by_name[by_name["n"] >= 2].sort_values(["agreement", "n"], ascending=[True, False]).head(10)
    return CriterionAlignment(overall=overall, by_position=res.breakdowns["position"],
                              by_domain=res.breakdowns["domain1"], by_name=by_name,
                              worst=worst.reset_index(drop=True), notes=notes)


@dataclass
class CriteriaComparison:
    """Criteria sets for one query and the requirements each covers.

    ``sets``: label -> [(name, description)]; ``coverage``: label -> per requirement the names
    of the covering criteria (same order as ``requirements``).
    """

    query_index: int
    domain1: str
    domain2: str
    lang: str
    instruction: str
    requirements: list[Requirement]
    sets: dict[str, list[tuple[str, str]]]
    coverage: dict[str, list[tuple[str, ...]]]


def criteria_comparison(*, session: Session, actor: User | None, query_index: int) -> CriteriaComparison:
    """Dynamic vs static-global vs static-domain criteria for one query."""
    require_role(actor, *MANAGERS)
    query = session.exec(select(Query).where(Query.index == query_index)).first()
    if query is None:
        raise NotFound(f"no query with index {query_index}")
    sub = session.get(Subdomain, query.subdomain_id)
    dom = session.get(Domain, sub.domain_id)  # type: ignore[union-attr]
    text = current_instruction(session=session, query_id=id_of(query)).text
    sets: dict[str, list[tuple[str, str]]] = {}
    for cs in session.exec(select(CriteriaSet).where(CriteriaSet.query_id == query.id, CriteriaSet.method == "dynamic")
                           .order_by(col(CriteriaSet.id))).all():
        label = "dynamic" if cs.source in ("checklist", "") and "dynamic" not in sets else f"dynamic ({cs.source})"
        crits = session.exec(select(Criterion).where(Criterion.criteria_set_id == cs.id).order_by(col(Criterion.position)))
        sets[label] = [(c.name, c.description) for c in crits]
    lang = query.lang if query.lang in ("en", "zh") else "en"
    sets["static-global"] = [(c.name, c.description) for c in load_static_global(lang)]
    try:
        sets["static-domain"] = [(c.name, c.description) for c in load_static_domain(dom.name, lang)]  # type: ignore[union-attr]
    except (KeyError, ValueError):
        sets["static-domain"] = []
    sets.update(_tree_method_sets(text, dom.name, sub.name, query.index))  # type: ignore[union-attr]
    reqs = requirements(text)
    return CriteriaComparison(query_index=query.index, domain1=dom.name, domain2=sub.name, lang=query.lang,  # type: ignore[union-attr]
                              instruction=text, requirements=reqs, sets=sets,
                              coverage={label: coverage(reqs, crits) for label, crits in sets.items()})


def _tree_method_sets(text: str, domain1: str, domain2: str, index: int) -> dict[str, list[tuple[str, str]]]:
    """The leaves of every registered criteria method that is not WritingBench's flat case (``tow`` ...)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name in method_names():
        method = get_method(name)
        if method.flat:
            continue
        tree = method.tree({"index": index, "query": text, "domain1": domain1, "domain2": domain2},
                           options=MethodOptions(), where=f"query {index}")
        out[name] = [(leaf.name, leaf.description) for leaf in tree.leaves]
    return out


def query_choices(*, session: Session) -> list[tuple[int, str]]:
    """(query index, short label) for a picker."""
    rows = session.exec(select(Query.index, Subdomain.name, Query.lang)
                        .join(Subdomain, col(Subdomain.id) == Query.subdomain_id)
                        .order_by(col(Query.index))).all()
    return [(i, f"{i} · {d2} · {lang}") for i, d2, lang in rows]
