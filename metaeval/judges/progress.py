"""Progress on stderr: done/total, rate, ETA, tokens and a cost estimate.

On a terminal a live bar (tqdm) is redrawn in place, with calls, cached and failed answers, tokens
and cost after it; otherwise one line is logged every few seconds (``log_interval``), so CI logs and
redirected output stay short.

Example:
    >>> estimate_cost("gpt-4o", 1_000_000, 0)
    2.5
    >>> estimate_cost("some-local-model", 10, 10) is None
    True
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from typing import TextIO

from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the core install

log = logging.getLogger(__name__)

#: USD per million (input, output) tokens; list prices at the time of writing, for estimates only.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-haiku-4-5": (1.00, 5.00),
}


def estimate_cost(model: str, input_tokens: int, output_tokens: int,
                  price: tuple[float, float] | None = None) -> float | None:
    """Estimated USD for the tokens, from ``price`` or the table; None when the model is unknown."""
    price = price or PRICES_PER_MTOK.get(model)
    if price is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


DEFAULT_COLUMNS = 120  # for a terminal that reports no width (a fresh pseudo-terminal reports 0)


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 0


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts finished tasks, cached answers, failures and tokens; renders one status line."""

    def __init__(self, total: int, *, label: str = "judge", model: str = "", stream: TextIO | None = None,
                 price: tuple[float, float] | None = None, interval: float = 0.5,
                 log_interval: float = 10.0, enabled: bool = True) -> None:
        self.total = total
        self.label = label
        self.model = model
        self.price = price
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.log_interval = log_interval
        self.enabled = enabled
        self.done = self.cached = self.failed = self.calls = 0
        self.input_tokens = self.output_tokens = 0
        self.start = time.monotonic()
        self._last: float | None = None  # when the last line was logged; None: none yet
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar: tqdm | None = None
        if enabled and self._tty:
            width = _columns(self.stream)
            self._bar = tqdm(total=total, desc=label, unit="task", file=self.stream, mininterval=interval,
                             dynamic_ncols=width > 0, ncols=None if width > 0 else DEFAULT_COLUMNS, leave=True)

    def add_call(self, input_tokens: int, output_tokens: int) -> None:
        """A live model call finished."""
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def task_done(self, *, ok: bool, cached: bool = False) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        self.cached += 1 if cached else 0
        self.render()

    def stats(self) -> str:
        """Calls, cached and failed answers, tokens and the cost estimate (the bar's postfix)."""
        cost = estimate_cost(self.model, self.input_tokens, self.output_tokens, self.price)
        cost_txt = "n/a" if cost is None else f"${cost:.4f}"
        return (f"calls {self.calls} cached {self.cached} failed {self.failed} | "
                f"tokens in {self.input_tokens} out {self.output_tokens} | cost~{cost_txt}")

    def line(self) -> str:
        """The logged line, e.g. ``judge 3/10 [ 30.0%] 1.5 tasks/s elapsed 0:00:02 ETA 0:00:04 | ...``."""
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label} {self.done}/{self.total} [{pct:5.1f}%] {rate:.1f} tasks/s "
                f"elapsed {_clock(elapsed)} ETA {_clock(eta)} | {self.stats()}")

    def render(self, *, final: bool = False) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.n = self.done
            self._bar.set_postfix_str(self.stats(), refresh=False)
            if final:
                self._bar.refresh()
            else:
                self._bar.update(0)  # redraws at most every ``interval`` seconds
            return
        now = time.monotonic()
        if final or self._last is None or now - self._last >= self.log_interval:
            self._last = now
            log.info("%s", self.line())

    def close(self) -> None:
        self.render(final=True)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
