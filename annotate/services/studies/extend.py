"""Add votes to a pairwise study where they shrink the interval of a judge difference most.

``extend_study`` adds exactly ``n`` assignments on the study's real items (not gold, not
qualification) and records the draw on the study (``settings["extensions"]``) so that the
design-based estimate can be computed later (:func:`target_estimate`). The maths (scores,
expected counts, the systematic draw, the estimators) is :mod:`metaeval.stats.allocation`.

Design rules kept:

* **No one judges a pair twice**: a new assignment goes to an annotator of the study (or one
  named in ``annotators``) who has no assignment on that item; an item's capacity is the
  number of such people.
* **Counterbalanced sides**: each new assignment shows ``a`` on the left when the item has
  fewer ``a``-left than ``b``-left assignments (``b`` when more, at random when equal), so an
  item's two sides never differ by more than one more than they did.
* **Even load**: the free annotator with the fewest assignments in the study gets the task
  (ties broken by the seeded random order); new tasks go to the end of their queues.

The target is ``"METHOD/JUDGE-METHOD/JUDGE"`` (two judge rows of the Agreement page); by
default the row with the highest agreement against the one after it. ``uniform`` needs no
target. The same seed and data give the same extension.

Example:
    >>> plan = plan_extension(session=s, study_name="pilot", n=40, strategy="adaptive")  # doctest: +SKIP
    >>> sum(plan.per_item.values())                                                      # doctest: +SKIP
    40
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from sqlmodel import Session, col, select

from annotate.db.engine import transaction
from annotate.db.models import Assignment, LLMModel, Query, Response, Study, StudyItem, User, id_of
from annotate.services.core.authz import require_role
from annotate.services.core.errors import InputError
from annotate.services.core.roles import MANAGERS
from annotate.services.core.statuses import StudyKind
from annotate.services.judges.agreement_view import agreement_inputs
from annotate.services.studies.lifecycle import get_study
from metaeval.stats import allocation
from metaeval.stats.agreement import votes_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtensionPlan:
    """What :func:`extend_study` adds (or would add).

    Attributes:
        strategy / target / seed / n: the request (``target`` is ``(A, B)`` or ``None``).
        per_item: item id -> new assignments on it.
        expected: item id -> expected count ``e_i`` the draw used.
        new: the new assignments as ``(item id, username, shown_left)``.
        widths: expected 95% interval widths of the target difference (``now``, ``uniform``,
            ``adaptive``); empty without a target.
        notes: warnings (items without verdicts etc.).
    """

    strategy: str
    target: tuple[str, str] | None
    seed: int
    n: int
    per_item: dict[int, int]
    expected: dict[int, float]
    new: list[tuple[int, str, str]] = field(repr=False)
    widths: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def per_annotator(self) -> dict[str, int]:
        """New assignments per username."""
        return dict(sorted(Counter(u for _, u, _ in self.new).items()))

    def summary_lines(self) -> list[str]:
        """Human-readable counts for the CLI and the design page."""
        lines = [f"strategy: {self.strategy}", f"assignments added: {len(self.new)}",
                 f"items receiving votes: {sum(1 for v in self.per_item.values() if v)}",
                 "per annotator: " + ", ".join(f"{k}={v}" for k, v in self.per_annotator.items())]
        if self.target:
            lines.append(f"target: {self.target[0]} minus {self.target[1]}")
        if self.widths:
            lines.append("expected 95% interval width (pp): " + ", ".join(
                f"{k} {100 * v:.1f}" for k, v in self.widths.items()))
        return lines + [f"note: {n}" for n in self.notes]


def parse_target(text: str, labels: list[str]) -> tuple[str, str]:
    """Split ``"A-B"`` into two known row labels (labels may contain ``-``).

    Example:
        >>> parse_target("dynamic/critic-static-global/critic", ["static-global/critic", "dynamic/critic"])
        ('dynamic/critic', 'static-global/critic')
    """
    known = set(labels)
    for pos, ch in enumerate(text):
        if ch == "-" and text[:pos] in known and text[pos + 1:] in known and text[:pos] != text[pos + 1:]:
            return text[:pos], text[pos + 1:]
    raise InputError(f"target {text!r} is not METHOD/JUDGE-METHOD/JUDGE of two judge rows "
                     f"({', '.join(sorted(known)) or 'none'})", field="target")


@dataclass
class _Item:
    id: int
    key: tuple[str, str, str]  # (qid, lo, hi) as in metaeval's vote frame
    takers: set[int]
    sides: Counter


def _items(session: Session, study: Study) -> list[_Item]:
    rows = session.exec(select(StudyItem.id, Query.index, StudyItem.response_a_id, StudyItem.response_b_id)
                        .join(Query, col(Query.id) == StudyItem.query_id)
                        .where(StudyItem.study_id == study.id, StudyItem.is_gold == False,  # noqa: E712
                               StudyItem.is_qualification == False)  # noqa: E712
                        .order_by(col(StudyItem.id))).all()
    rids = {r for _, _, a, b in rows for r in (a, b)}
    model = dict(session.exec(select(Response.id, LLMModel.name).join(LLMModel, col(LLMModel.id) == Response.model_id)
                              .where(col(Response.id).in_(rids))).all())
    items: dict[int, _Item] = {}
    for stored_iid, idx, a, b in rows:
        if b is not None:
            iid = cast(int, stored_iid)  # a stored row's key is never NULL
            lo, hi = sorted((model[a], model[b]))
            items[iid] = _Item(iid, (str(idx), lo, hi), set(), Counter())
    for iid, uid, side in session.exec(select(Assignment.item_id, Assignment.annotator_id, Assignment.shown_left)
                                       .where(Assignment.study_id == study.id)).all():
        if iid in items:
            items[iid].takers.add(uid)
            items[iid].sides[side] += 1
    return list(items.values())


def _people(session: Session, study: Study, extra: list[str] | None) -> dict[int, str]:
    names = list((study.settings or {}).get("annotators") or []) + list(extra or [])
    users = session.exec(select(User).where(col(User.username).in_(names))).all()
    missing = sorted(set(names) - {u.username for u in users})
    if missing:
        raise InputError(f"unknown users: {', '.join(missing)}", field="annotators")
    return {id_of(u): u.username for u in users if u.active}


def _differences(session: Session, study: Study, items: list[_Item], target: str | None
                 ) -> tuple[list[np.ndarray], np.ndarray, tuple[str, str], list[str]]:
    """Phase-1 vote differences per item, structural zeros, the target pair and notes."""
    votes, judges, notes = agreement_inputs(session=session, study_name=study.name)
    if len(judges) < 2:
        raise InputError("the target difference needs two judge runs with verdicts on this study's pairs",
                         field="target")
    if target:
        pair = parse_target(target, list(judges))
    else:
        frame = votes_frame(votes)
        frame = frame[frame["criterion"].isna() & ~frame["stale"]]
        keyed = frame.set_index(["qid", "lo", "hi"])
        score = {}
        for name, jv in judges.items():
            v = jv.pairs.set_index(["qid", "lo", "hi"])["verdict"].reindex(keyed.index).to_numpy(dtype=float)
            ok = ~np.isnan(v)
            score[name] = float(np.mean(v[ok] == keyed["outcome"].to_numpy()[ok])) if ok.any() else -1.0
        ranked = sorted(score, key=lambda k: (-score[k], k))
        pair = (ranked[0], ranked[1])
    verdict = {name: judges[name].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict() for name in pair}
    frame = votes_frame(votes)
    frame = frame[frame["criterion"].isna() & ~frame["stale"]]
    by_pair = defaultdict(list)
    for qid, lo, hi, outcome in frame[["qid", "lo", "hi", "outcome"]].itertuples(index=False):
        by_pair[(str(qid), lo, hi)].append(outcome)
    d1, zero, missing = [], [], 0
    for it in items:
        va, vb = verdict[pair[0]].get(it.key), verdict[pair[1]].get(it.key)
        known = va is not None and vb is not None and not (np.isnan(va) or np.isnan(vb))
        missing += not known
        zero.append(not known or va == vb)
        d1.append(allocation.vote_differences(by_pair.get(it.key, []), va, vb) if known else np.zeros(0))
    if all(zero):
        notes.append(f"{pair[0]} and {pair[1]} give the same verdict on every item: votes are spread evenly")
    if missing:
        notes.append(f"{missing} items lack a verdict of {pair[0]} or {pair[1]}: they get only the even share")
    return d1, np.array(zero, dtype=bool), pair, notes


def plan_extension(*, session: Session, study_name: str, n: int, strategy: str, target: str | None = None,
                   seed: int = 0, annotators: list[str] | None = None,
                   floor: float = allocation.DEFAULT_FLOOR) -> ExtensionPlan:
    """Plan ``n`` new assignments without writing anything (see the module docstring).

    Raises:
        NotFound: no such study.
        InputError: not a pairwise study, bad strategy or target, no votes or judge runs
            (adaptive), or fewer free annotator slots than ``n``.
    """
    if strategy not in allocation.STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(allocation.STRATEGIES)}, not {strategy!r}",
                         field="strategy")
    if n < 1:
        raise InputError("must be at least 1", field="votes")
    study = get_study(session=session, name=study_name)
    if study.kind != StudyKind.PAIRWISE:
        raise InputError("only pairwise studies can be extended", field="study")
    items = _items(session, study)
    people = _people(session, study, annotators)
    capacity = np.array([len(set(people) - it.takers) for it in items])
    if capacity.sum() < n:
        raise InputError(f"only {int(capacity.sum())} free annotator slots (people who have not seen the item) "
                         f"for {n} votes; add annotators", field="votes")
    pair: tuple[str, str] | None = None
    widths: dict[str, float] = {}
    notes: list[str] = []
    if strategy == "adaptive" or target:
        d1, zero, pair, notes = _differences(session, study, items, target)
        widths = allocation.planned_widths(d1, zero, capacity, n, floor=floor)
    if strategy == "adaptive":
        e = allocation.expected_counts(allocation.allocation_scores(d1, zero), capacity, n, floor=floor)
    else:
        e = allocation.expected_counts(np.ones(len(items)), capacity, n, floor=1.0)
    rng = np.random.default_rng(seed)
    counts = allocation.systematic_counts(e, rng)
    new = _assign(session, study, items, people, counts, random.Random(f"{seed}:extend"))
    return ExtensionPlan(strategy=strategy, target=pair, seed=seed, n=n,
                         per_item={it.id: int(c) for it, c in zip(items, counts, strict=True)},
                         expected={it.id: float(x) for it, x in zip(items, e, strict=True)},
                         new=new, widths=widths, notes=notes)


def _assign(session: Session, study: Study, items: list[_Item], people: dict[int, str], counts: np.ndarray,
            rng: random.Random) -> list[tuple[int, str, str]]:
    load = Counter(dict.fromkeys(people, 0))
    for uid in session.exec(select(Assignment.annotator_id).where(Assignment.study_id == study.id)).all():
        if uid in load:
            load[uid] += 1
    order = sorted(people)
    rng.shuffle(order)
    rank = {uid: r for r, uid in enumerate(order)}
    new = []
    for it, c in zip(items, counts, strict=True):
        free = [u for u in people if u not in it.takers]
        for _ in range(int(c)):
            uid = min(free, key=lambda u: (load[u], rank[u]))
            free.remove(uid)
            a, b = it.sides["a"], it.sides["b"]
            side = "a" if a < b else "b" if a > b else rng.choice("ab")
            it.sides[side] += 1
            load[uid] += 1
            new.append((it.id, people[uid], side))
    return new


def extend_study(*, session: Session, actor: User | None, study_name: str, n: int, strategy: str,
                 target: str | None = None, seed: int = 0, annotators: list[str] | None = None) -> ExtensionPlan:
    """Plan and add the assignments in one transaction, recording the draw on the study.

    Raises:
        PermissionDenied: the actor is not a researcher or admin.
        See :func:`plan_extension` for the rest.
    """
    require_role(actor, *MANAGERS)
    plan = plan_extension(session=session, study_name=study_name, n=n, strategy=strategy, target=target,
                          seed=seed, annotators=annotators)
    study = get_study(session=session, name=study_name)
    ids = {name: uid for uid, name in _people(session, study, annotators).items()}
    with transaction(session):
        tail: defaultdict[int, int] = defaultdict(int)
        for uid, pos in session.exec(select(Assignment.annotator_id, Assignment.position)
                                     .where(Assignment.study_id == study.id)).all():
            tail[uid] = max(tail[uid], pos + 1)
        rows = []
        for item_id, name, side in plan.new:
            uid = ids[name]
            rows.append(Assignment(study_id=id_of(study), item_id=item_id, annotator_id=uid, shown_left=side,
                                   position=tail[uid]))
            tail[uid] += 1
        session.add_all(rows)
        session.flush()
        settings = dict(study.settings or {})
        settings["annotators"] = sorted(set(settings.get("annotators") or []) | set(annotators or []))
        record = {"strategy": plan.strategy, "target": list(plan.target) if plan.target else None,
                  "seed": plan.seed, "n": plan.n, "expected": {str(k): v for k, v in plan.expected.items()},
                  "counts": {str(k): v for k, v in plan.per_item.items() if v},
                  "floor": allocation.DEFAULT_FLOOR, "widths": plan.widths,
                  "assignment_ids": [min(id_of(r) for r in rows), max(id_of(r) for r in rows)]}
        settings["extensions"] = [*settings.get("extensions", []), record]
        study.settings = settings
        session.add(study)
    log.info("extended study %r: %d assignments (%s)", study_name, len(plan.new), plan.strategy)
    return plan
