"""Study design: choose queries, pairs, gold and qualification items, and assignments.

A study is planned from a :class:`StudyDesign` without writing anything
(:func:`plan_study`), so the counts can be shown before the study is created
(:func:`create_study`, one transaction). The plan is a pure function of the database
content and the design: the same seed gives the identical study.

Design rules:

* **Stratified queries**: for every subdomain (sorted by domain then subdomain name), ``N``
  queries are drawn at random among those with responses from at least two eligible models
  (pairwise) or at least one (pointwise). A subdomain with fewer gives all it has and a
  warning.
* **Pairs**: two different models drawn at random per query, or one of the given model
  pairs that the query has both responses for. The pair is stored in canonical order:
  ``response_a`` is the response of the model whose name sorts first.
* **Gold pairs** are drawn from eligible queries that are not in the sample, so that gold
  items make up ``gold_rate`` of the non-qualification items:
  ``n_gold = round(gold_rate * n_real / (1 - gold_rate))``. Their known answer is set by a
  researcher (:func:`set_gold_answer`). They are assigned like real items.
* **Qualification items** (optional) are drawn the same way, given to every annotator and
  served before real work.
* **Assignments**: each real or gold item goes to ``K`` different annotators, by a
  round-robin over a seeded shuffle of the annotators that continues from item to item, so
  every annotator's count differs from every other's by at most one.
* **Left/right counterbalancing**: of the ``K`` annotators of an item, ``floor(K/2)`` or
  ``ceil(K/2)`` (chosen at random when ``K`` is odd) see response ``a`` on the left, the
  others see ``b``; who gets which side is random. Stored in ``Assignment.shown_left``.

Example:
    >>> design = StudyDesign(name="pilot", per_subdomain=3, overlap=5,
    ...                      annotators=["ann1", "ann2", "ann3", "ann4", "ann5"], seed=7)
    >>> design.kind
    'pairwise'
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import (
    Assignment,
    Domain,
    LLMModel,
    Query,
    Response,
    Study,
    StudyItem,
    Subdomain,
    User,
    id_of,
)
from annotate.services.core.authz import require_role
from annotate.services.core.errors import Conflict, InputError, NotFound
from annotate.services.core.names import MAX_STUDY_NAME, check_not_confusable, clean_name
from annotate.services.core.roles import MANAGERS, Role
from annotate.services.core.statuses import StudyKind

log = logging.getLogger(__name__)

KINDS = ("pairwise", "pointwise")
DEFAULT_ERROR_TYPES: tuple[str, ...] = (
    "ignores requirements",
    "factual error",
    "incomplete or cut off",
    "poor structure",
    "language or style",
    "misuses materials",
    "other",
)
"""Error types offered for low pointwise ratings unless a study sets its own."""



@dataclass(frozen=True)
class StudyDesign:
    """Every setting of a study (nothing in the protocol is a constant).

    Attributes:
        name: unique study name.
        per_subdomain: queries drawn per subdomain (``N``).
        overlap: annotators per item (``K``), at most the number of annotators.
        annotators: usernames of existing active accounts.
        kind: ``"pairwise"`` or ``"pointwise"``.
        models: restrict responses to these models (``None`` = every model).
        model_pairs: draw each query's pair among these pairs (``None`` = any two models).
        seed: random seed; the same seed and data give the identical study.
        gold_rate: share of the non-qualification items that are gold pairs (0 <= r < 1).
        qualification_items: items every annotator judges first (0 = no qualification).
        per_criterion: also ask for a choice per criterion of the query's dynamic criteria.
        error_types: pointwise error types (``None`` = :data:`DEFAULT_ERROR_TYPES`).
        subdomains: restrict to these subdomain (``domain2``) names (``None`` = all).
    """

    name: str
    per_subdomain: int
    overlap: int
    annotators: list[str]
    kind: str = "pairwise"
    models: list[str] | None = None
    model_pairs: list[tuple[str, str]] | None = None
    seed: int = 0
    gold_rate: float = 0.0
    qualification_items: int = 0
    per_criterion: bool = False
    error_types: list[str] | None = None
    subdomains: list[str] | None = None


@dataclass(frozen=True)
class PlannedItem:
    """One item of a plan (canonical order: ``model_a`` sorts before ``model_b``)."""

    query_id: int
    query_index: int
    domain1: str
    domain2: str
    response_a_id: int
    model_a: str
    response_b_id: int | None
    model_b: str | None
    is_gold: bool = False
    is_qualification: bool = False


@dataclass(frozen=True)
class PlannedAssignment:
    """One annotator's task: ``item`` indexes :attr:`StudyPlan.items`."""

    item: int
    annotator: str
    shown_left: str
    position: int


@dataclass(frozen=True)
class StudyPlan:
    """What :func:`create_study` would write, with the counts to show first.

    Attributes:
        n_queries: distinct queries of the real (non-gold, non-qualification) items.
        n_items: all items (real + gold + qualification).
        n_gold: gold items.
        n_qualification: qualification items.
        n_assignments: all assignments.
        per_annotator: assignments per annotator username.
        per_subdomain: real items per subdomain (``domain2``).
        per_model_pair: real items per ``"model_a vs model_b"`` (pairwise) or model.
        warnings: shortfalls (subdomains with fewer than N eligible queries, too few spare
            queries for gold or qualification items).
        items: the planned items, real ones first, then gold, then qualification.
        assignments: the planned assignments.
    """

    n_queries: int
    n_items: int
    n_gold: int
    n_qualification: int
    n_assignments: int
    per_annotator: dict[str, int]
    per_subdomain: dict[str, int]
    per_model_pair: dict[str, int]
    warnings: list[str]
    items: tuple[PlannedItem, ...] = field(repr=False, default=())
    assignments: tuple[PlannedAssignment, ...] = field(repr=False, default=())

    def summary_lines(self) -> list[str]:
        """Human-readable counts, one per line (used by the CLI and the design page)."""
        lines = [
            f"queries: {self.n_queries}",
            f"items: {self.n_items} (gold {self.n_gold}, qualification {self.n_qualification})",
            f"assignments: {self.n_assignments}",
            "per annotator: " + ", ".join(f"{k}={v}" for k, v in sorted(self.per_annotator.items())),
            f"subdomains: {len(self.per_subdomain)}",
            "per model pair: " + ", ".join(f"{k}={v}" for k, v in sorted(self.per_model_pair.items())),
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


# --------------------------------------------------------------------------- validation


def validate_design(design: StudyDesign) -> None:
    """Raise :class:`InputError` (naming the field) when a setting is out of range."""
    clean_name(design.name, what="study name", max_len=MAX_STUDY_NAME)
    if design.kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, not {design.kind!r}", field="kind")
    if design.per_subdomain < 1:
        raise InputError("must be at least 1", field="per_subdomain")
    annotators = list(design.annotators)
    if not annotators:
        raise InputError("at least one annotator is needed", field="annotators")
    dupes = sorted(k for k, v in Counter(annotators).items() if v > 1)
    if dupes:
        raise InputError(f"annotators listed twice: {', '.join(dupes)}", field="annotators")
    if not 1 <= design.overlap <= len(annotators):
        raise InputError(f"overlap must be between 1 and the number of annotators ({len(annotators)}), "
                         f"not {design.overlap}", field="overlap")
    if not 0.0 <= design.gold_rate < 1.0 or math.isnan(design.gold_rate):
        raise InputError(f"gold rate must be in [0, 1), not {design.gold_rate}", field="gold_rate")
    if design.kind == StudyKind.POINTWISE and design.gold_rate > 0:
        raise InputError("gold pairs apply to pairwise studies only", field="gold_rate")
    if design.qualification_items < 0:
        raise InputError("must not be negative", field="qualification_items")
    if design.model_pairs is not None:
        if design.kind != StudyKind.PAIRWISE:
            raise InputError("model pairs apply to pairwise studies only", field="model_pairs")
        if not design.model_pairs:
            raise InputError("the list of model pairs is empty", field="model_pairs")
        for pair in design.model_pairs:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise InputError(f"a pair needs two different models, not {pair!r}", field="model_pairs")
    if design.models is not None and len(set(design.models)) < (2 if design.kind == StudyKind.PAIRWISE else 1):
        raise InputError("a pairwise study needs at least two models", field="models")
    if design.error_types is not None and not [t for t in design.error_types if t.strip()]:
        raise InputError("the list of error types is empty", field="error_types")


# --------------------------------------------------------------------------- planning


@dataclass
class _Candidate:
    query_id: int
    index: int
    domain1: str
    domain2: str
    responses: dict[str, int]  # model name -> response id


def _load_candidates(session: Session, design: StudyDesign) -> tuple[list[_Candidate], list[str]]:
    """Queries with their eligible responses, and every subdomain name in scope."""
    allowed: set[str] | None = None
    if design.models is not None:
        allowed = set(design.models)
    if design.model_pairs is not None:
        pair_models = {m for pair in design.model_pairs for m in pair}
        allowed = pair_models if allowed is None else allowed & pair_models
    sub_rows = session.exec(
        select(Subdomain.id, Subdomain.name, Domain.name).join(Domain, col(Domain.id) == Subdomain.domain_id)
    ).all()
    sub_of = {sid: (d1, d2) for sid, d2, d1 in sub_rows}
    scope = set(design.subdomains) if design.subdomains is not None else None
    if scope is not None:
        unknown = scope - {d2 for _, d2 in sub_of.values()}
        if unknown:
            raise InputError(f"unknown subdomains: {', '.join(sorted(unknown))}", field="subdomains")
    responses: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, qid, model in session.exec(
        select(Response.id, Response.query_id, LLMModel.name).join(LLMModel, col(LLMModel.id) == Response.model_id)
    ).all():
        if allowed is None or model in allowed:
            responses[qid][model] = cast(int, rid)  # a stored row's key is never NULL
    if design.models is not None:
        known = set(session.exec(select(LLMModel.name)).all())
        missing = set(design.models) - known
        if missing:
            raise InputError(f"unknown models: {', '.join(sorted(missing))}", field="models")
    candidates = []
    for stored_qid, index, sub_id in session.exec(select(Query.id, Query.index, Query.subdomain_id)).all():
        qid = cast(int, stored_qid)  # a stored row's key is never NULL
        d1, d2 = sub_of[sub_id]
        if scope is not None and d2 not in scope:
            continue
        candidates.append(_Candidate(qid, index, d1, d2, responses.get(qid, {})))
    subdomain_names = sorted({(d1, d2) for d1, d2 in sub_of.values() if scope is None or d2 in scope})
    return candidates, [d2 for _, d2 in subdomain_names]


def _pair_options(design: StudyDesign, cand: _Candidate) -> list[tuple[str, str]]:
    """Canonical (sorted) model pairs this query can use."""
    models = sorted(cand.responses)
    if design.model_pairs is not None:
        options: list[tuple[str, str]] = []
        for m1, m2 in design.model_pairs:
            pair = (min(m1, m2), max(m1, m2))
            if pair[0] in cand.responses and pair[1] in cand.responses and pair not in options:
                options.append(pair)
        return options
    return [(a, b) for i, a in enumerate(models) for b in models[i + 1:]]


def _eligible(design: StudyDesign, cand: _Candidate) -> bool:
    if design.kind == StudyKind.POINTWISE:
        return bool(cand.responses)
    return bool(_pair_options(design, cand))


def _items_for(design: StudyDesign, cand: _Candidate, rng: random.Random, *, gold: bool = False,
               qualification: bool = False) -> list[PlannedItem]:
    """The item(s) of one chosen query: one pair (pairwise) or one per response (pointwise)."""
    if design.kind == StudyKind.POINTWISE:
        return [PlannedItem(cand.query_id, cand.index, cand.domain1, cand.domain2, cand.responses[m], m,
                            None, None, gold, qualification) for m in sorted(cand.responses)]
    if design.model_pairs is not None:
        model_a, model_b = rng.choice(_pair_options(design, cand))
    else:
        model_a, model_b = sorted(rng.sample(sorted(cand.responses), 2))
    return [PlannedItem(cand.query_id, cand.index, cand.domain1, cand.domain2, cand.responses[model_a],
                        model_a, cand.responses[model_b], model_b, gold, qualification)]


def _counterbalance(annotators: list[str], rng: random.Random) -> dict[str, str]:
    """Which side each annotator of one item sees on the left: ``a`` for floor or ceil of K/2.

    Example:
        >>> sides = _counterbalance(["u1", "u2", "u3", "u4", "u5"], random.Random(1))
        >>> sorted(Counter(sides.values()).values())
        [2, 3]
    """
    k = len(annotators)
    n_a = k // 2 if k % 2 == 0 else k // 2 + rng.randint(0, 1)
    left_a = set(rng.sample(sorted(annotators), n_a))
    return {u: ("a" if u in left_a else "b") for u in annotators}


def _build_plan(session: Session, design: StudyDesign) -> StudyPlan:
    validate_design(design)
    seed = design.seed
    candidates, subdomain_names = _load_candidates(session, design)
    by_sub: dict[str, list[_Candidate]] = defaultdict(list)
    for cand in candidates:
        if _eligible(design, cand):
            by_sub[cand.domain2].append(cand)
    warnings: list[str] = []

    # 1. stratified sample of queries
    rng_select = random.Random(f"{seed}:select")
    chosen: list[_Candidate] = []
    domain_of = {c.domain2: c.domain1 for c in candidates}
    for d2 in sorted(subdomain_names, key=lambda s: (domain_of.get(s, ""), s)):
        pool = sorted(by_sub.get(d2, []), key=lambda c: c.index)
        if len(pool) < design.per_subdomain:
            need = "two models'" if design.kind == StudyKind.PAIRWISE else "any"
            warnings.append(f"subdomain {d2!r} has {len(pool)} queries with {need} responses "
                            f"(wanted {design.per_subdomain})")
        picked = rng_select.sample(pool, min(design.per_subdomain, len(pool)))
        chosen.extend(sorted(picked, key=lambda c: c.index))
    if not chosen:
        raise InputError("no query has enough responses for this design", field="models")

    # 2. pairs (or single responses) of the real items
    rng_pair = random.Random(f"{seed}:pairs")
    items: list[PlannedItem] = []
    for cand in chosen:
        items.extend(_items_for(design, cand, rng_pair))
    n_real = len(items)

    # 3. gold and qualification items from the eligible queries not in the sample
    used = {c.query_id for c in chosen}
    spare = sorted((c for group in by_sub.values() for c in group if c.query_id not in used),
                   key=lambda c: c.index)
    rng_extra = random.Random(f"{seed}:extra")
    n_gold_wanted = round(design.gold_rate * n_real / (1 - design.gold_rate)) if design.gold_rate else 0
    if n_gold_wanted > len(spare):
        warnings.append(f"only {len(spare)} spare queries for {n_gold_wanted} gold pairs")
    gold_queries = rng_extra.sample(spare, min(n_gold_wanted, len(spare)))
    spare = [c for c in spare if c not in gold_queries]
    gold_items = [it for c in sorted(gold_queries, key=lambda c: c.index)
                  for it in _items_for(design, c, rng_extra, gold=True)]
    n_qual_wanted = design.qualification_items
    if n_qual_wanted > len(spare):
        warnings.append(f"only {len(spare)} spare queries for {n_qual_wanted} qualification items")
    qual_queries = rng_extra.sample(spare, min(n_qual_wanted, len(spare)))
    qual_items = [it for c in sorted(qual_queries, key=lambda c: c.index)
                  for it in _items_for(design, c, rng_extra, qualification=True)]
    if design.kind == StudyKind.POINTWISE:
        qual_items = qual_items[:n_qual_wanted]
    all_items = items + gold_items + qual_items

    # 4. assignments: continuing round-robin over a seeded shuffle of the annotators
    rng_assign = random.Random(f"{seed}:assign")
    order = sorted(design.annotators)
    rng_assign.shuffle(order)
    n_ann, k = len(order), design.overlap
    queues: dict[str, list[tuple[int, str]]] = {u: [] for u in order}
    cursor = 0
    for block_start, block in ((0, items), (n_real, gold_items)):
        sequence = list(range(block_start, block_start + len(block)))
        rng_assign.shuffle(sequence)
        for item_no in sequence:
            group = [order[(cursor + t) % n_ann] for t in range(k)]
            cursor = (cursor + k) % n_ann
            for user, side in _counterbalance(group, rng_assign).items():
                queues[user].append((item_no, side))
    qual_queues: dict[str, list[tuple[int, str]]] = {u: [] for u in order}
    for item_no in range(n_real + len(gold_items), len(all_items)):
        for user, side in _counterbalance(order, rng_assign).items():
            qual_queues[user].append((item_no, side))

    # 5. each annotator's queue: qualification first, then real and gold work mixed
    assignments: list[PlannedAssignment] = []
    for user in sorted(order):
        rng_user = random.Random(f"{seed}:queue:{user}")
        first, rest = list(qual_queues[user]), sorted(queues[user])
        rng_user.shuffle(first)
        rng_user.shuffle(rest)
        for pos, (item_no, side) in enumerate(first + rest):
            assignments.append(PlannedAssignment(item_no, user, side, pos))

    per_annotator = Counter(a.annotator for a in assignments)
    per_subdomain = Counter(it.domain2 for it in items)
    per_pair = Counter(f"{it.model_a} vs {it.model_b}" if it.model_b else it.model_a for it in items)
    return StudyPlan(
        n_queries=len({it.query_id for it in items}),
        n_items=len(all_items),
        n_gold=len(gold_items),
        n_qualification=len(qual_items),
        n_assignments=len(assignments),
        per_annotator={u: per_annotator.get(u, 0) for u in sorted(order)},
        per_subdomain=dict(sorted(per_subdomain.items())),
        per_model_pair=dict(sorted(per_pair.items())),
        warnings=warnings,
        items=tuple(all_items),
        assignments=tuple(assignments),
    )


def _annotator_users(session: Session, usernames: list[str]) -> dict[str, User]:
    users = {u.username: u for u in session.exec(select(User).where(col(User.username).in_(usernames))).all()}
    missing = [u for u in usernames if u not in users]
    if missing:
        raise InputError(f"unknown users: {', '.join(missing)}", field="annotators")
    inactive = [u for u in usernames if not users[u].active]
    if inactive:
        raise InputError(f"deactivated users: {', '.join(inactive)}", field="annotators")
    return users


def plan_study(*, session: Session, design: StudyDesign) -> StudyPlan:
    """Plan a study without writing anything; the counts can be shown before creating it.

    Raises:
        InputError: a setting is out of range, an annotator, model or subdomain is unknown,
            or no query is eligible.

    Example:
        >>> plan = plan_study(session=s, design=design)       # doctest: +SKIP
        >>> plan.n_assignments == plan.n_items * design.overlap  # doctest: +SKIP
        True
    """
    _annotator_users(session, list(design.annotators))
    return _build_plan(session, design)


def design_settings(design: StudyDesign) -> dict:
    """The JSON-safe settings stored on :class:`Study` (everything but name and kind)."""
    data = asdict(design)
    data.pop("name")
    data.pop("kind")
    if data["model_pairs"] is not None:
        data["model_pairs"] = [list(p) for p in data["model_pairs"]]
    if design.kind == StudyKind.POINTWISE and data["error_types"] is None:
        data["error_types"] = list(DEFAULT_ERROR_TYPES)
    return data


def create_study(*, session: Session, actor: User | None, design: StudyDesign) -> Study:
    """Plan and create a study with its items and assignments, in one transaction.

    Args:
        actor: a researcher or admin.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        Conflict: a study with this name exists.
        InputError: see :func:`plan_study`.
    """
    require_role(actor, *MANAGERS)
    name = clean_name(design.name, what="study name", max_len=MAX_STUDY_NAME)
    if session.exec(select(Study.id).where(Study.name == name)).first() is not None:
        raise Conflict(f"a study named {name!r} exists already")
    check_not_confusable(name, session.exec(select(Study.name)).all(), what="study")
    users = _annotator_users(session, list(design.annotators))
    plan = _build_plan(session, design)
    try:
        with transaction(session):
            study = Study(name=name, kind=design.kind, settings=design_settings(design),
                          created_by_id=getattr(actor, "id", None))
            session.add(study)
            session.flush()
            study_id = id_of(study)
            rows = [StudyItem(study_id=study_id, query_id=it.query_id, response_a_id=it.response_a_id,
                              response_b_id=it.response_b_id, is_gold=it.is_gold,
                              is_qualification=it.is_qualification) for it in plan.items]
            session.add_all(rows)
            session.flush()
            session.add_all([Assignment(study_id=study_id, item_id=id_of(rows[a.item]),
                                        annotator_id=id_of(users[a.annotator]), shown_left=a.shown_left,
                                        position=a.position) for a in plan.assignments])
    except IntegrityError as exc:
        raise Conflict(f"a study named {name!r} exists already") from exc
    log.info("created study %s: %d items, %d assignments", name, plan.n_items, plan.n_assignments)
    return study


def annotator_choices(*, session: Session, actor: User | None) -> list[str]:
    """Usernames of the active annotators, the people a new study can be given (researcher or admin).

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
    """
    require_role(actor, *MANAGERS)
    return list(session.exec(select(User.username).where(User.role == Role.ANNOTATOR, User.active == True)  # noqa: E712
                             .order_by(col(User.username))).all())


def error_types_of(settings: dict[str, Any]) -> list[str]:
    """The error types a pointwise study's ``settings`` offer: its own list, else the defaults.

    Example:
        >>> error_types_of({"error_types": ["off topic"]})
        ['off topic']
        >>> error_types_of({}) == list(DEFAULT_ERROR_TYPES)
        True
    """
    types = settings.get("error_types")
    return list(types) if types else list(DEFAULT_ERROR_TYPES)


def set_gold_answer(*, session: Session, actor: User | None, item_id: int, winner: str) -> StudyItem:
    """Set the known answer (``a``, ``b`` or ``tie``) of a gold or qualification item."""
    require_role(actor, *MANAGERS)
    if winner not in ("a", "b", "tie"):
        raise InputError(f"winner must be a, b or tie, not {winner!r}", field="winner")
    item = session.get(StudyItem, item_id)
    if item is None:
        raise NotFound(f"no study item {item_id}")
    if not (item.is_gold or item.is_qualification):
        raise Conflict(f"item {item_id} is neither a gold nor a qualification item")
    item.gold_winner = winner
    session.add(item)
    session.commit()
    return item
