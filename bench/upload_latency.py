"""Another user's API latency while hostile files are uploaded, before and after the worker.

The JSON API (``annotate.api.routes``) is served by uvicorn in this process, as ``annotate
serve`` does beside the Streamlit script threads. The bench measures ``/api/v1/health``
latency (median and 95th percentile of sequential requests):

* idle;
* **before**: two threads extract a hostile PDF in this process, as the page did before
  the worker process (``pypdf`` ``extract_text`` on one 3.9 MB content stream);
* **after**: two threads upload the worst files (that PDF, a .docx with a million
  paragraphs, a .docx zip bomb) through :func:`annotate.services.refine.uploads.read_upload`,
  which reads them in a limited worker process.

Run: ``PYTHONPATH=. python bench/upload_latency.py`` (about a minute; a scratch SQLite
database in a temporary folder).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotate.api.routes import Api  # noqa: E402
from annotate.db.engine import init_db  # noqa: E402
from annotate.services.core.errors import InputError  # noqa: E402
from annotate.services.refine.uploads import read_upload  # noqa: E402
from tests.fixtures.app_server import free_port  # noqa: E402
from tests.unit.services.refine.test_uploads_limits import body, docx, one_page_pdf  # noqa: E402

DENSE_PDF = one_page_pdf(b"BT /F1 12 Tf " + b"(a) Tj " * 550_000 + b"ET", compress=True)


def latencies(url: str, seconds: float) -> list[float]:
    out = []
    end = time.monotonic() + seconds
    with httpx.Client() as client:
        while time.monotonic() < end:
            start = time.perf_counter()
            client.get(url)
            out.append(time.perf_counter() - start)
            time.sleep(0.02)
    return out


def under_load(url: str, work: Callable[[], None], seconds: float = 8.0) -> list[float]:
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            work()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        return latencies(url, seconds)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)


def in_thread_pdf() -> None:
    from pypdf import PdfReader

    for page in PdfReader(io.BytesIO(DENSE_PDF)).pages:
        page.extract_text()


def through_worker() -> None:
    for name, data in FILES:
        with contextlib.suppress(InputError):
            read_upload(name, data)


FILES = [("dense.pdf", DENSE_PDF),
         ("long.docx", docx(body("<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 1_000_000))),
         ("bomb.docx", docx(chunks=200))]


def describe(label: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return (f"{label:<48} n={len(values):3d}  median {statistics.median(values) * 1000:8.1f} ms  "
            f"p95 {p95 * 1000:8.1f} ms  max {values[-1] * 1000:8.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = init_db(f"sqlite:///{folder}/bench.db")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(Starlette(routes=Api(engine, b"s" * 32).routes()),
                                               host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        url = f"http://127.0.0.1:{port}/api/v1/health"
        while True:
            try:
                httpx.get(url)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        idle = latencies(url, 4.0)
        before = under_load(url, in_thread_pdf)
        after = under_load(url, through_worker)
        print(describe("idle", idle))
        print(describe("before: hostile PDF extracted in the server", before))
        print(describe("after: worst files read in the worker", after))
        base = statistics.median(idle)
        print(f"median vs idle: before x{statistics.median(before) / base:.1f}, "
              f"after x{statistics.median(after) / base:.1f}")
        server.should_exit = True


if __name__ == "__main__":
    main()
