"""Concurrent annotators on one SQLite file, through the service layer.

N simulated annotators (threads by default, or processes with ``--processes``) each fetch
their next task and submit a judgment, as the annotator page does, until their queue is
empty. Every 10th submit is sent twice with the same token (a double click). At the end
the database is checked: no judgment lost, none duplicated, no lock error seen.

The baseline, measured in the same run on a fresh database, is one annotator submitting
the same number of judgments alone (no contention).

Usage:
    .venv/bin/python bench/concurrent_annotators.py [--annotators 50] [--per-annotator 100] [--processes]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from annotate.db.engine import init_db, make_engine, session_scope
from annotate.db.models import (
    Assignment,
    Domain,
    InstructionVersion,
    Judgment,
    JudgmentRevision,
    LLMModel,
    Query,
    Response,
    Subdomain,
    User,
)
from annotate.services.annotate.judgments import submit_judgment
from annotate.services.annotate.tasks import next_task
from annotate.services.studies.design import StudyDesign, create_study

CHOICES = ("left", "right", "tie")


def build_database(url: str, n_annotators: int, per_annotator: int) -> list[int]:
    """A study where each of ``n_annotators`` has ``per_annotator`` tasks; returns user ids."""
    engine = init_db(url)
    n_sub = 10
    per_sub = -(-per_annotator // n_sub)
    with session_scope(engine) as s:
        domain = Domain(name="Bench")
        s.add(domain)
        s.flush()
        models = [LLMModel(name="model-a"), LLMModel(name="model-b")]
        s.add_all(models)
        s.flush()
        index = 1
        for k in range(n_sub):
            sub = Subdomain(domain_id=domain.id, name=f"sub-{k}")
            s.add(sub)
            s.flush()
            for _ in range(per_sub):
                q = Query(index=index, subdomain_id=sub.id, lang="en", original_text=f"query {index}")
                s.add(q)
                s.flush()
                s.add(InstructionVersion(query_id=q.id, version_no=1, text=q.original_text))
                s.add_all([Response(query_id=q.id, model_id=m.id, text=f"{m.name} {index} " * 50) for m in models])
                index += 1
        names = [f"bench{i:03d}" for i in range(n_annotators)]
        users = [User(username=n, role="annotator", password_hash="!") for n in names]
        researcher = User(username="bench-researcher", role="researcher", password_hash="!")
        s.add_all([*users, researcher])
        s.commit()
        create_study(session=s, actor=researcher, design=StudyDesign(
            name="bench", per_subdomain=per_sub, overlap=n_annotators, annotators=names, seed=1))
        # trim each queue to exactly per_annotator tasks
        for user in users:
            rows = s.exec(select(Assignment).where(Assignment.annotator_id == user.id)
                          .order_by(Assignment.position)).all()
            for extra in rows[per_annotator:]:
                s.delete(extra)
        s.commit()
        ids = [u.id for u in users]
    engine.dispose()
    return ids


def annotate_queue(engine, user_id: int, stats: dict) -> None:  # type: ignore[no-untyped-def]
    """One annotator: next task, submit, repeat; counts submits, replays and lock errors
    and records the seconds each (next task + submit) round took."""
    with session_scope(engine) as s:
        actor = s.get(User, user_id)  # logged in once, as the app keeps the user in its session
        s.commit()
    n = 0
    while True:
        try:
            started = time.perf_counter()
            with session_scope(engine) as s:
                task = next_task(session=s, actor=actor)
                if task is None:
                    break
                token = uuid.uuid4().hex
                kwargs = dict(session=s, actor=actor, assignment_id=task.assignment_id,
                              choice=CHOICES[n % 3], elapsed_s=1.0,
                              instruction_version_no=task.instruction_version_no,
                              content_revision=task.content_revision, submit_token=token)
                result = submit_judgment(**kwargs)
                stats["created"] += int(result.created)
                if n % 10 == 0:  # a double click sends the same submit again
                    again = submit_judgment(**kwargs)
                    stats["replays"] += 1
                    stats["replay_created"] += int(again.created)
                n += 1
            stats["latencies"].append(time.perf_counter() - started)
        except (OperationalError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError) or "locked" in str(exc).lower() or "busy" in str(exc).lower():
                stats["lock_errors"] += 1
                continue
            raise


def _new_stats() -> dict:
    return {"created": 0, "replays": 0, "replay_created": 0, "lock_errors": 0, "latencies": []}


def _process_main(url: str, user_id: int, queue) -> None:  # type: ignore[no-untyped-def]
    stats = _new_stats()
    engine = make_engine(url)  # one app process = one engine
    try:
        annotate_queue(engine, user_id, stats)
    finally:
        engine.dispose()
    queue.put(stats)


def run(url: str, user_ids: list[int], processes: bool) -> tuple[dict, float]:
    """Run every annotator at once; returns summed counters and wall seconds.

    Threads share one engine, as the sessions of one app process do.
    """
    total = _new_stats()
    start = time.perf_counter()
    if processes:
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_process_main, args=(url, uid, queue)) for uid in user_ids]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
    else:
        engine = make_engine(url)
        results = [_new_stats() for _ in user_ids]
        threads = [threading.Thread(target=annotate_queue, args=(engine, uid, st))
                   for uid, st in zip(user_ids, results, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        engine.dispose()
    for r in results:
        for k in total:
            total[k] += r[k]
    return total, time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def check(url: str, expected: int) -> dict:
    """Counts in the database after a run."""
    engine = make_engine(url)
    with session_scope(engine) as s:
        judgments = s.exec(select(func.count()).select_from(Judgment)).one()
        revisions = s.exec(select(func.count()).select_from(JudgmentRevision)).one()
        done = s.exec(select(func.count()).select_from(Assignment).where(Assignment.status == "done")).one()
        assigned = s.exec(select(func.count()).select_from(Assignment)).one()
    engine.dispose()
    return {"expected": expected, "assigned": assigned, "judgments": judgments, "revisions": revisions,
            "done": done, "lost": expected - judgments, "duplicated": revisions - judgments}


class RetryCounter(logging.Handler):
    """Counts the service layer's internal retries (warnings of annotate.services.annotate.judgments)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.busy = 0
        self.raced = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.busy += "busy" in message
        self.raced += "raced" in message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--per-annotator", type=int, default=100)
    parser.add_argument("--processes", action="store_true", help="one process per annotator instead of threads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    retries = RetryCounter()
    logging.getLogger("annotate.services.annotate.judgments").addHandler(retries)
    mode = "processes" if args.processes else "threads"
    with tempfile.TemporaryDirectory() as tmp:
        base_url = f"sqlite:///{Path(tmp) / 'baseline.db'}"
        base_ids = build_database(base_url, 1, args.per_annotator)
        base_stats, base_s = run(base_url, base_ids, processes=False)
        base_check = check(base_url, args.per_annotator)

        retries.busy = retries.raced = 0
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        ids = build_database(url, args.annotators, args.per_annotator)
        stats, secs = run(url, ids, processes=args.processes)
        expected = args.annotators * args.per_annotator
        result = check(url, expected)
    base_rate = base_check["judgments"] / base_s
    rate = result["judgments"] / secs
    print(f"baseline: 1 annotator alone, {base_check['judgments']} judgments in {base_s:.2f} s "
          f"-> {base_rate:.1f} judgments/s")
    print(f"concurrent: {args.annotators} annotators ({mode}) x {args.per_annotator}, "
          f"{result['judgments']} judgments in {secs:.2f} s -> {rate:.1f} judgments/s "
          f"({rate / base_rate:.2f}x baseline)")
    lat = stats["latencies"]
    print(f"seconds per (next task + submit) round under load: median {_percentile(lat, 0.5):.3f}, "
          f"p99 {_percentile(lat, 0.99):.3f}, max {max(lat):.3f}; alone: median "
          f"{_percentile(base_stats['latencies'], 0.5):.3f}")
    print(f"lost: {result['lost']}  duplicated: {result['duplicated']}  lock errors: {stats['lock_errors']}  "
          f"double-click replays: {stats['replays']} (stored again: {stats['replay_created']})  "
          f"assignments done: {result['done']}/{result['assigned']}")
    note = " (threads only; processes log on their own)" if args.processes else ""
    print(f"internal submit retries: busy {retries.busy}, unique-constraint races {retries.raced}{note}")
    ok = (result["lost"] == 0 and result["duplicated"] == 0 and stats["lock_errors"] == 0
          and stats["replay_created"] == 0 and base_check["lost"] == 0)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
