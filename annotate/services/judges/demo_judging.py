"""Demo data for the researcher pages: judge score files and an already-judged study.

:func:`make_demo_scores` writes deterministic judge score files (long layout, one file per
run) for the demo project: ``demo-judge`` under the three criteria methods and
``demo-critic`` under dynamic criteria. Each response has a made-up quality
(:func:`demo_quality`: the model's base quality plus a seeded per-query offset, so every model
wins some pairs and loses others); scores follow it with seeded noise that differs by method
and judge (the critic is the least noisy, static-domain the noisiest and it also favours
``demo-beta``, so the methods disagree on some pairs); reasons are short made-up sentences.
``scripts/make_demo_scores.py`` writes them to ``annotate/data/demo/scores/``.

:func:`seed_demo_judging` imports those files and creates the study ``demo-audit`` whose
judgments are filled in with seeded simulated choices (it asks per criterion too), so the
agreement, audit and criteria pages have something to show in ``annotate demo``. People follow
the same qualities with their own noise, except one (the last annotator) who votes at random;
with fewer than three annotators, simulated ones (``demo-rater3`` ..., inactive accounts that
cannot log in) make up three.

Example:
    >>> rows = make_demo_scores(queries=[{"index": 1, "domain1": "Education", "query": "Write.",
    ...     "checklist": [{"name": "C1"}]}], models=["demo-alpha"], judge="j", method="dynamic")
    >>> rows[0]["criterion"], 1 <= rows[0]["score"] <= 10
    ('C1', True)
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, col, select

from annotate.db.models import Assignment, CriteriaSet, Criterion, Query, Study, StudyItem, User, id_of
from annotate.services.core.errors import Conflict
from annotate.services.core.roles import Role
from annotate.services.core.statuses import OPEN_TASK_STATUSES

log = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
SCORES_DIR = DEMO_DIR / "scores"
DEMO_RUNS: tuple[tuple[str, str], ...] = (("demo-judge", "static-global"), ("demo-judge", "static-domain"),
                                          ("demo-judge", "dynamic"), ("demo-critic", "dynamic"))
QUALITY = {"demo-alpha": 6.8, "demo-beta": 6.2, "demo-gamma": 5.4}
QUERY_SPREAD = 1.4  # standard deviation of a response's quality around its model's base
NOISE = {"static-global": 2.2, "static-domain": 2.6, "dynamic": 1.2}
FAVOURED = {"static-domain": ("demo-beta", 1.2)}  # a method's leaning towards one model (score points)
MIN_DEMO_RATERS = 3
DEMO_AUDIT_STUDY = "demo-audit"
_REASONS = ("Covers the point well.", "Partly meets the requirement.", "Misses part of what was asked.",
            "Clear and accurate.", "Some details are wrong or missing.")


def _criteria_names(query: dict, method: str) -> list[str]:
    from metaeval.criteria import detect_language, load_static_domain, load_static_global

    lang = detect_language(query.get("query", ""))
    if method == "static-global":
        return [c.name for c in load_static_global(lang)]
    if method == "static-domain":
        return [c.name for c in load_static_domain(query["domain1"], lang)]
    return [c["name"] for c in query["checklist"]]


def demo_quality(index: int, model: str) -> float:
    """The made-up quality of ``model``'s response to query ``index``: base quality plus a seeded offset.

    Example:
        >>> demo_quality(900001, "demo-alpha") == demo_quality(900001, "demo-alpha")
        True
    """
    return QUALITY.get(model, 6.0) + random.Random(f"quality:{index}:{model}").gauss(0, QUERY_SPREAD)


def make_demo_scores(*, queries: Sequence[dict], models: Sequence[str], judge: str, method: str,
                     seed: int = 0, answered: set[tuple[int, str]] | None = None) -> list[dict]:
    """Long-layout score rows for every (query, model, criterion) of one run, deterministic.

    ``answered``: the (index, model) pairs that have a response (default: all)."""
    rng = random.Random(f"{seed}:{judge}:{method}")
    noise = NOISE.get(method, 2.0) * (0.7 if judge.endswith("critic") else 1.0)
    favoured, lean = FAVOURED.get(method, ("", 0.0))
    rows = []
    for q in queries:
        names = _criteria_names(q, method)
        for model in models:
            if answered is not None and (q["index"], model) not in answered:
                continue
            centre = demo_quality(q["index"], model) + (lean if model == favoured else 0.0)
            for name in names:
                score = round(centre + rng.gauss(0, noise))
                score = min(10, max(1, score))
                rows.append({"index": q["index"], "model": model, "judge": judge, "method": method,
                             "criterion": name, "score": score, "reason": _REASONS[(10 - score) // 2 % 5]})
    return rows


def write_demo_scores(directory: Path = SCORES_DIR) -> list[Path]:
    """Write one long-layout file per demo run into ``directory``; returns the paths."""
    queries = [json.loads(line) for line in (DEMO_DIR / "queries.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    answered = set()
    for line in (DEMO_DIR / "responses.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            answered.add((obj["index"], obj["model"]))
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for judge, method in DEMO_RUNS:
        rows = make_demo_scores(queries=queries, models=sorted(QUALITY), judge=judge, method=method,
                                answered=answered)
        path = directory / f"{method}__{judge}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        paths.append(path)
    return paths


def import_demo_scores(*, session: Session, directory: Path = SCORES_DIR) -> int:
    """Import the demo score files (idempotent); returns the number of scores inserted.

    Scores already stored are kept as they are, stale or not: the demo restarts on a
    database people have worked in (an approved edit makes its query's scores stale)."""
    from annotate.services.judges.judge_runs import import_scores

    inserted = 0
    for judge, method in DEMO_RUNS:
        path = directory / f"{method}__{judge}.jsonl"
        if path.is_file():
            inserted += import_scores(session=session, path=path, judge=judge, method=method,
                                      keep_existing=True).inserted
    return inserted


def simulate_judgments(*, session: Session, study_name: str, seed: int = 0, per_criterion: bool = True,
                       prefer: dict[str, float] | None = None, noisy: Sequence[str] = ()) -> int:
    """Fill every open assignment of a study with a seeded simulated judgment (through the
    judgment service); returns the number submitted. For demos, tests and benchmarks only.

    ``prefer``: a fixed quality per model (default: :func:`demo_quality`, which varies by query);
    ``noisy``: usernames who choose at random among A, B and Equivalent."""
    from annotate.services.annotate.judgments import submit_judgment

    rng = random.Random(seed)
    random_voters = set(noisy)
    study = session.exec(select(Study).where(Study.name == study_name)).one()
    rows = session.exec(select(Assignment, StudyItem, User).join(StudyItem, col(StudyItem.id) == Assignment.item_id)
                        .join(User, col(User.id) == Assignment.annotator_id)
                        .where(Assignment.study_id == study.id, col(Assignment.status).in_(OPEN_TASK_STATUSES))
                        .order_by(col(Assignment.id))).all()
    from annotate.db.models import LLMModel, Response

    n = 0
    for assignment, item, user in rows:
        ra, rb = session.get(Response, item.response_a_id), session.get(Response, item.response_b_id)
        query = session.get(Query, item.query_id)
        name_a = session.get(LLMModel, ra.model_id).name  # type: ignore[union-attr]
        name_b = session.get(LLMModel, rb.model_id).name  # type: ignore[union-attr]
        if prefer is not None:
            qa, qb = prefer.get(name_a, 6.0), prefer.get(name_b, 6.0)
        else:
            qa, qb = demo_quality(query.index, name_a), demo_quality(query.index, name_b)  # type: ignore[union-attr]

        def pick(qa: float = qa, qb: float = qb, left: str = assignment.shown_left,
                 at_random: bool = user.username in random_voters) -> str:
            if at_random:
                canonical = rng.choice(("a", "b", "tie"))
            else:
                d = qa - qb + rng.gauss(0, 0.6)
                canonical = "a" if d > 0.4 else "b" if d < -0.4 else "tie"
            return "tie" if canonical == "tie" else ("left" if canonical == left else "right")

        crit: dict[str, str] | None = None
        if per_criterion and (study.settings or {}).get("per_criterion"):
            cs = session.exec(select(CriteriaSet).where(CriteriaSet.query_id == query.id,  # type: ignore[union-attr]
                                                        CriteriaSet.method == "dynamic").order_by(col(CriteriaSet.id))).first()
            names = [c.name for c in session.exec(select(Criterion).where(Criterion.criteria_set_id == cs.id))] if cs else []
            crit = {name: pick() for name in names}
        choice = pick()
        submit_judgment(session=session, actor=user, assignment_id=id_of(assignment), choice=choice,
                        per_criterion=crit, rationale=f"{user.username}: {choice} reads better overall.",
                        elapsed_s=round(60 + rng.random() * 240, 1), instruction_version_no=1,
                        content_revision=query.content_revision, submit_token=uuid.uuid4().hex)  # type: ignore[union-attr]
        n += 1
    return n


def seed_demo_judging(*, session: Session, researcher: User, annotators: Sequence[str]) -> str:
    """Import the demo judge scores and create the judged demo study; a note on what happened."""
    from annotate.services.studies.design import StudyDesign, create_study

    inserted = import_demo_scores(session=session)
    raters = list(annotators)
    for n in range(len(raters) + 1, MIN_DEMO_RATERS + 1):
        raters.append(_simulated_rater(session, f"demo-rater{n}"))
    design = StudyDesign(name=DEMO_AUDIT_STUDY, per_subdomain=1, overlap=len(raters), annotators=raters,
                         seed=11, per_criterion=True)
    try:
        create_study(session=session, actor=researcher, design=design)
    except Conflict:
        return f"demo judge scores: {inserted} new; study {DEMO_AUDIT_STUDY!r} kept as it was"
    n = simulate_judgments(session=session, study_name=DEMO_AUDIT_STUDY, seed=11, noisy=raters[-1:])
    for username in raters[len(annotators):]:  # the simulated raters have voted: nobody logs in as them
        rater = session.exec(select(User).where(User.username == username)).one()
        rater.active = False
        session.add(rater)
    session.commit()
    return (f"demo judge scores: {inserted} new; study {DEMO_AUDIT_STUDY!r} with {n} simulated judgments "
            f"({raters[-1]} votes at random)")


def _simulated_rater(session: Session, username: str) -> str:
    """An annotator account without a password that holds simulated demo votes (deactivated once they are in)."""
    if session.exec(select(User).where(User.username == username)).first() is None:
        session.add(User(username=username, role=Role.ANNOTATOR, display_name="simulated rater"))
        session.flush()
    return username
