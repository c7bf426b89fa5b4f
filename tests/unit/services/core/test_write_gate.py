"""The SQLite write gate: first come, first served; read services release the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time

from annotate.db.engine import session_scope
from annotate.services.annotate.tasks import next_task
from annotate.services.core.write_gate import TicketLock
from annotate.services.studies.design import StudyDesign, create_study
from tests.fixtures.study_factory import grid_spec, make_benchmark, make_users


def test_ticket_lock_admits_in_arrival_order():
    gate = TicketLock()
    order: list[int] = []
    gate.__enter__()  # held, so every thread below queues
    threads = []
    for i in range(6):
        t = threading.Thread(target=lambda i=i: (gate.__enter__(), order.append(i), gate.__exit__()))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # make the arrival order unambiguous
    gate.__exit__()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4, 5]


def test_next_task_does_not_keep_the_write_lock(engine):
    with session_scope(engine) as s:
        make_benchmark(s, grid_spec(1, 2, ["m1", "m2"]))
        users = make_users(s, ["u1"]) | make_users(s, ["res"], role="researcher")
        create_study(session=s, actor=users["res"], design=StudyDesign(
            name="s", per_subdomain=2, overlap=1, annotators=["u1"]))
    with session_scope(engine) as reader:
        assert next_task(session=reader, actor=users["u1"]) is not None
        # the reader's session is still open (a page still rendering); a writer must get in at once
        other = sqlite3.connect(engine.url.database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" after 0.2 s if the reader kept it
            other.execute("UPDATE study SET status = 'active'")
            other.execute("COMMIT")
        finally:
            other.close()
