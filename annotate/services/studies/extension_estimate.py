"""The honest estimate of an extended study's target difference (after ``annotate study extend``).

After an adaptive extension the votes per pair depend on the votes already in, so the pooled
per-vote difference of the Agreement page weights the pairs where the two rows disagree and the
people split more than the others. :func:`extension_estimate` gives the design-based estimate of
:mod:`metaeval.stats.allocation` instead: phase 1 = the votes on assignments made before the last
extension, phase 2 = the votes on the assignments it added, with the expected counts it recorded.
A uniform extension uses the mean of the pairs' mean vote differences.

Votes still missing from phase 2 are taken as missing at random: the expected counts are scaled
by the share of added assignments judged so far. Stale judgments (``Judgment.stale``) are left
out. Only the last extension is treated as phase 2; with several adaptive extensions the earlier
ones count as phase 1 (a note says so).

Example:
    >>> est = extension_estimate(session=s, study_name="pilot")   # doctest: +SKIP
    >>> est["method"]                                              # doctest: +SKIP
    'design-based (HT difference)'
"""

from __future__ import annotations

import numpy as np
from sqlmodel import Session, col, select

from annotate.db.models import Assignment, Judgment
from annotate.services.core.errors import InputError
from annotate.services.core.statuses import TaskStatus
from annotate.services.judges.agreement_view import agreement_inputs
from annotate.services.studies import extend
from annotate.services.studies.lifecycle import get_study
from metaeval.stats import allocation

OUTCOME = {"a": 1.0, "tie": 0.0, "b": -1.0}  # canonical: a = the model whose name sorts first


def extension_estimate(*, session: Session, study_name: str, level: float = 0.95) -> dict | None:
    """The target difference of the study's last extension with its interval, or ``None`` when the
    study was never extended with a target.

    Returns ``{"target": [A, B], "strategy", "value", "se", "ci", "method", "weight",
    "n_added", "n_added_done", "notes"}``.
    """
    study = get_study(session=session, name=study_name)
    records = [r for r in (study.settings or {}).get("extensions", []) if r.get("target")]
    if not records:
        return None
    rec = records[-1]
    first, last = rec["assignment_ids"]
    items = extend._items(session, study)
    _, judges, notes = agreement_inputs(session=session, study_name=study_name)
    a, b = rec["target"]
    if a not in judges or b not in judges:
        raise InputError(f"the judge runs {a} and {b} of the extension's target have no verdicts any more")
    va = judges[a].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    vb = judges[b].pairs.set_index(["qid", "lo", "hi"])["verdict"].to_dict()
    votes: dict[int, tuple[list[float], list[float]]] = {it.id: ([], []) for it in items}
    for aid, item_id, winner, stale in session.exec(
            select(Assignment.id, Assignment.item_id, Judgment.winner, Judgment.stale)
            .join(Judgment, col(Judgment.assignment_id) == Assignment.id)
            .where(Assignment.study_id == study.id, Assignment.status != TaskStatus.SUPERSEDED)).all():
        if item_id in votes and not stale:
            votes[item_id][0 if aid < first else 1 if aid <= last else 0].append(OUTCOME[winner])
    d1, d2, zero = [], [], []
    for it in items:
        x, y = va.get(it.key), vb.get(it.key)
        known = x is not None and y is not None and not (np.isnan(x) or np.isnan(y))
        zero.append(not known or x == y)
        d1.append(allocation.vote_differences(votes[it.id][0], x, y) if known else np.zeros(len(votes[it.id][0])))
        d2.append(allocation.vote_differences(votes[it.id][1], x, y) if known else np.zeros(len(votes[it.id][1])))
    zero_arr = np.array(zero, dtype=bool)
    n_done = sum(len(x) for x in d2)
    if len([r for r in records if r["strategy"] == "adaptive"]) > 1:
        notes.append("earlier adaptive extensions are counted as phase 1")
    if rec["strategy"] == "adaptive":
        e = np.array([rec["expected"].get(str(it.id), 0.0) for it in items]) * (n_done / rec["n"])
        est = allocation.adaptive_estimate(d1, d2, e, zero_arr, level=level)
    else:
        est = allocation.uniform_estimate([np.concatenate([p, q]) for p, q in zip(d1, d2, strict=True)], zero_arr,
                                          level=level)
    if n_done < rec["n"]:
        notes.append(f"{n_done} of the {rec['n']} added votes are in; the rest are taken as missing at random")
    return {"target": [a, b], "strategy": rec["strategy"], "value": est.value, "se": est.se, "ci": list(est.ci),
            "method": est.method, "weight": est.weight, "n_added": rec["n"], "n_added_done": n_done,
            "notes": notes}
