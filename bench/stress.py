"""Stress: many concurrent annotators over HTTP against two app servers on one PostgreSQL.

Starts two real app servers (``annotate serve``: Streamlit UI + JSON API, two processes)
on loopback, both on one fresh PostgreSQL database, seeds a pairwise study, then lets
``--annotators`` simulated annotators work through their queues at once. The baseline
annotator logs in over HTTP; the crowd's tokens are signed here with the servers' secret
(100 argon2 logins from one address at the same second are a test of the login limits,
not of judging; every request still verifies its token and reloads the account). Then
each annotator loops (bounded):
``GET /api/v1/tasks/next`` -> [think] -> ``POST /api/v1/judgments``, alternating between the
two servers; every ``--replay-every``-th submit is also sent again, with the same submit
token, to the *other* server (a client retry after a lost answer).

Modes (``--mode``):

* ``saturated`` (default): a closed loop without think time; every annotator submits as
  fast as the servers answer. Reports throughput (submits/s).
* ``think``: before each submit the annotator reads for an exponentially distributed time,
  mean ``--think-mean`` seconds (20 s: people reading two responses). Reports latency
  under a realistic load (100 annotators at 20 s give ~5 submits/s).

Checks, from the database after the run: every acknowledged submit is stored (zero lost),
each task has at most one judgment and one revision per token (zero duplicated), and the
numbers of judgments and revisions equal the numbers of distinct acknowledged tasks and
tokens. Prints p50/p95 submit latency as the client saw it and the servers' own time per
submit (their ``Server-Timing`` header) next to a baseline measured in the same run: one
annotator submitting alone, sequentially, to the same servers.

    ANNOTATE_TEST_PG_URL=postgresql+psycopg://... .venv/bin/python bench/stress.py \
        [--db URL] [--mode saturated|think] [--annotators 100] [--tasks 20] [--replay-every 5] \
        [--think-mean 20]

``--db`` (or ``$ANNOTATE_TEST_PG_URL``) names a PostgreSQL server/database whose user may
create databases; a fresh database ``stress_<random>`` is created there and dropped at the
end (``--keep`` keeps it). Exit status 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import re
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loopback_http import Client, Response  # noqa: E402  (bench/loopback_http.py)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.fixtures.app_server import seed_api_study, start_server, stop  # noqa: E402

log = logging.getLogger("stress")
PASSWORD = "stress-password-1"
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``.

    Example:
        >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
        2.0
    """
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def server_ms(response: Response) -> float | None:
    """The server's own time for a request (``Server-Timing: app;dur=<ms>``), if it says.

    Example:
        >>> server_ms(Response(200, {"server-timing": "app;dur=3.25"}, b"{}"))
        3.25
    """
    match = SERVER_TIMING.search(response.headers.get("server-timing", ""))
    return float(match.group(1)) if match else None


class Annotator:
    """One simulated annotator: logs in on each server, then works through the queue."""

    def __init__(self, name: str, servers: list[str], offset: int, replay_every: int,
                 think_mean: float = 0.0, seed: int = 0) -> None:
        self.name, self.servers, self.offset, self.replay_every = name, servers, offset, replay_every
        self.think_mean, self.rng = think_mean, random.Random(seed)
        self.acks: list[dict] = []       # acknowledged submits: assignment_id, token, judgment_id
        self.latencies: list[float] = []
        self.server_ms: list[float] = []
        self.errors: list[str] = []
        self.tokens: list[dict[str, str]] = []

    async def login(self, client: Client) -> None:
        if self.tokens:  # signed by the bench
            return
        for base in self.servers:  # one login per server (both share the signing secret anyway)
            r = await client.post(f"{base}/api/v1/login", json={"username": self.name, "password": PASSWORD})
            if r.status_code != 200:
                self.errors.append(f"login {r.status_code}: {r.text[:200]}")
                return
            self.tokens.append({"Authorization": f"Bearer {r.json()['token']}"})

    async def run(self, client: Client, max_steps: int) -> None:
        tokens = self.tokens
        if len(tokens) != len(self.servers):
            return
        for step in range(max_steps):
            i = (self.offset + step) % len(self.servers)
            base, auth = self.servers[i], tokens[i]
            r = await client.get(f"{base}/api/v1/tasks/next", headers=auth)
            if r.status_code != 200:
                self.errors.append(f"next {r.status_code}: {r.text[:200]}")
                return
            task = r.json()["task"]
            if task is None:
                return
            body = {"assignment_id": task["assignment_id"], "choice": ("left", "right", "tie")[step % 3],
                    "submit_token": uuid.uuid4().hex, "instruction_version_no": task["instruction_version_no"],
                    "content_revision": task["content_revision"], "elapsed_s": 1.0}
            if self.think_mean > 0:
                await asyncio.sleep(self.rng.expovariate(1.0 / self.think_mean))
            start = time.perf_counter()
            r = await client.post(f"{base}/api/v1/judgments", headers=auth, json=body)
            self.latencies.append(time.perf_counter() - start)
            took = server_ms(r)
            if took is not None:
                self.server_ms.append(took)
            if r.status_code not in (200, 201):
                self.errors.append(f"submit {r.status_code}: {r.text[:200]}")
                continue
            self.acks.append({"assignment_id": task["assignment_id"], "token": body["submit_token"],
                              **r.json()})
            if self.replay_every and (step + 1) % self.replay_every == 0:
                j = (i + 1) % len(self.servers)
                again = await client.post(f"{self.servers[j]}/api/v1/judgments", headers=tokens[j], json=body)
                if again.status_code != 200 or again.json().get("created") is not False:
                    self.errors.append(f"replay {again.status_code}: {again.text[:200]}")
        self.errors.append(f"still had tasks after {max_steps} steps")


async def run_all(annotators: list[Annotator], max_steps: int) -> float:
    """Log everybody in, then let them all work; returns the seconds the work took."""
    # Idle connections are dropped after 2 s, before the server drops them (uvicorn: 5 s).
    # bench/loopback_http.py: httpx cost ~6 ms of CPU per request, as much as the servers.
    async with Client(timeout=120, keepalive_s=2.0) as client:
        await asyncio.gather(*(a.login(client) for a in annotators))
        start = time.perf_counter()
        await asyncio.gather(*(a.run(client, max_steps) for a in annotators))
        return time.perf_counter() - start


async def log_in(annotators: list[Annotator]) -> None:
    """Log ``annotators`` in over HTTP (a bench-signed token is kept as it is)."""
    async with Client(timeout=120) as client:
        await asyncio.gather(*(a.login(client) for a in annotators))


def summary(values_ms: list[float]) -> str:
    """``p50 .. p95 .. max ..`` of ``values_ms`` (``-`` when empty)."""
    if not values_ms:
        return "-"
    return (f"p50 {percentile(values_ms, 50):7.1f} ms   p95 {percentile(values_ms, 95):7.1f} ms   "
            f"max {max(values_ms):7.1f} ms")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by the live processes ``pids`` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def group_pids(pgid: int) -> list[int]:
    """The processes in process group ``pgid`` (a server and its Streamlit child)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def backend_pids(db_url: str) -> list[int]:
    """PostgreSQL server processes connected to the database of ``db_url``."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        pids = [int(p) for p in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")).scalars()]
    engine.dispose()
    return pids


def sign_tokens(db_url: str, secret: str, names: list[str]) -> list[str]:
    """API tokens for ``names``, as the servers' login would issue them."""
    from annotate.auth.tokens import issue_token

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = dict((name, (uid, pw)) for name, uid, pw in conn.execute(
            text('SELECT username, id, password_hash FROM "user"')).all())
    engine.dispose()
    return [issue_token(secret.encode(), user_id=rows[n][0], password_hash=rows[n][1]) for n in names]


def verify(db_url: str, acks: list[dict]) -> dict[str, int]:
    """Compare acknowledged submits with the rows in the database."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        judgments = dict(conn.execute(text("SELECT assignment_id, id FROM judgment")).all())
        revisions = conn.execute(text("SELECT judgment_id, submit_token FROM judgmentrevision")).all()
        per_assignment_dupes = conn.execute(text(
            "SELECT count(*) FROM (SELECT assignment_id FROM judgment GROUP BY assignment_id "
            "HAVING count(*) > 1) d")).scalar_one()
    engine.dispose()
    stored_tokens = {tok for _, tok in revisions}
    ack_tokens = {a["token"] for a in acks}
    ack_tasks = {a["assignment_id"] for a in acks}
    lost = sum(1 for a in acks if a["token"] not in stored_tokens or judgments.get(a["assignment_id"])
               != a["judgment_id"])
    duplicated = (len(revisions) - len(stored_tokens)) + per_assignment_dupes
    return {"acknowledged": len(acks), "distinct_tasks": len(ack_tasks), "judgment_rows": len(judgments),
            "revision_rows": len(revisions), "lost": lost, "duplicated": duplicated,
            "unacknowledged_rows": len(stored_tokens - ack_tokens)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("ANNOTATE_TEST_PG_URL"),
                        help="PostgreSQL URL whose user may create databases (default $ANNOTATE_TEST_PG_URL)")
    parser.add_argument("--mode", choices=("saturated", "think"), default="saturated",
                        help="closed loop without think time (default), or exponential think time")
    parser.add_argument("--think-mean", type=float, default=20.0, help="mean think time, seconds (think mode)")
    parser.add_argument("--annotators", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=None,
                        help="tasks per annotator (default 20 saturated, 4 think)")
    parser.add_argument("--replay-every", type=int, default=5, help="replay every N-th submit (0 = never)")
    parser.add_argument("--baseline-tasks", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the stress database")
    args = parser.parse_args(argv)
    if args.tasks is None:
        args.tasks = 20 if args.mode == "saturated" else 4
    think = args.think_mean if args.mode == "think" else 0.0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.db or make_url(args.db).get_backend_name() != "postgresql":
        parser.error("a PostgreSQL URL is needed (--db or $ANNOTATE_TEST_PG_URL)")

    from annotate.db.engine import init_db

    base = make_url(args.db)
    name = f"stress_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = base.set(database=name).render_as_string(hide_password=False)
    servers = []
    try:
        engine = init_db(db_url)
        names = seed_api_study(engine, annotators=args.annotators, tasks_each=args.tasks, password=PASSWORD)
        seed_api_study(engine, annotators=2, tasks_each=args.baseline_tasks, password=PASSWORD, prefix="solo",
                       first_index=900001)
        engine.dispose()
        secret = secrets.token_hex(32)
        logdir = Path(tempfile.mkdtemp(prefix="stress-"))
        servers = [start_server(db_url, logdir / f"server{i}.log", secret=secret) for i in range(2)]
        urls = [s.base_url for s in servers]
        print(f"servers: {', '.join(urls)} (two processes), database {name} on "
              f"{base.host}:{base.port}; logs in {logdir}")

        solo = Annotator("solo000", urls, 0, 0)
        server_pids = [p for s in servers for p in group_pids(s.process.pid)]
        asyncio.run(log_in([solo]))
        solo_before = cpu_seconds(server_pids)
        asyncio.run(run_all([solo], args.baseline_tasks + 5))
        solo_cpu = cpu_seconds(server_pids) - solo_before
        crowd = [Annotator(n, urls, i, args.replay_every, think_mean=think, seed=i) for i, n in enumerate(names)]
        for annotator, token in zip(crowd, sign_tokens(db_url, secret, names), strict=True):
            annotator.tokens = [{"Authorization": f"Bearer {token}"}] * len(urls)
        pg_pids = backend_pids(db_url)  # the servers' pooled connections (made by the baseline)
        before = (cpu_seconds(server_pids), cpu_seconds(pg_pids), time.process_time())
        wall = asyncio.run(run_all(crowd, args.tasks + 5))
        pg_pids = sorted(set(pg_pids) | set(backend_pids(db_url)))
        used = (cpu_seconds(server_pids) - before[0], cpu_seconds(pg_pids) - before[1],
                time.process_time() - before[2])

        errors = [f"{a.name}: {e}" for a in [solo, *crowd] for e in a.errors]
        latencies = [x for a in crowd for x in a.latencies]
        acks = [x for a in [solo, *crowd] for x in a.acks]
        report = verify(db_url, acks)
        ms = [x * 1000 for x in latencies]
        base_ms = [x * 1000 for x in solo.latencies]
        crowd_server = [x for a in crowd for x in a.server_ms]
        how = (f"think time exponential, mean {think:g} s" if think else "closed loop, no think time")
        print(f"mode {args.mode}: {len(crowd)} annotators x {args.tasks} tasks, {how}; replays: every "
              f"{args.replay_every}th submit re-sent to the other server")
        print(f"submits acknowledged: {report['acknowledged']} ({len(latencies)} by the crowd in {wall:.1f} s: "
              f"{len(latencies) / wall:.1f} submits/s)")
        print(f"submit latency (client), {len(crowd)} at once: {summary(ms)}")
        print(f"submit latency (client), 1 alone (baseline): {summary(base_ms)}   (n={len(base_ms)})")
        print(f"submit server time, {len(crowd)} at once:      {summary(crowd_server)}")
        print(f"submit server time, 1 alone (baseline):    {summary(solo.server_ms)}")
        n = max(1, len(latencies))
        print(f"CPU per crowd submit (with its next-task request and replays): servers "
              f"{used[0] * 1000 / n:.1f} ms, PostgreSQL {used[1] * 1000 / n:.1f} ms, bench client "
              f"{used[2] * 1000 / n:.1f} ms; machine load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        print(f"CPU per baseline submit (with its next-task request): servers "
              f"{solo_cpu * 1000 / max(1, len(solo.latencies)):.1f} ms")
        print(f"database: judgments {report['judgment_rows']} (distinct acknowledged tasks "
              f"{report['distinct_tasks']}), revisions {report['revision_rows']}")
        print(f"lost: {report['lost']}   duplicated: {report['duplicated']}   "
              f"stored but never acknowledged: {report['unacknowledged_rows']}   client errors: {len(errors)}")
        for line in errors[:10]:
            print("  error:", line)
        ok = (report["lost"] == 0 and report["duplicated"] == 0 and not errors
              and report["judgment_rows"] == report["distinct_tasks"]
              and report["acknowledged"] == args.annotators * args.tasks + args.baseline_tasks)
        print("RESULT:", "ok" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for server in servers:
            stop(server)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
