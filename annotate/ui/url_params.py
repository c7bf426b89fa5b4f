"""Numbers read from the page address (``?q=12``, ``?assignment=345``), never trusted.

A crafted address must end in a plain message, never a traceback: ``"²".isdigit()`` is
true but ``int("²")`` fails, a 5,000-digit number exceeds Python's conversion limit, and
an id beyond the database's integer range fails inside the driver. No Streamlit import.

Example:
    >>> url_int("12"), url_int("²"), url_int("9" * 5000), url_int("99999999999999999999"), url_int(None)
    (12, None, None, None, None)
"""

from __future__ import annotations

INT32_MAX = 2**31 - 1
"""Largest id or index the database stores (the API uses the same bound)."""


def url_int(raw: str | None, *, maximum: int = INT32_MAX) -> int | None:
    """``raw`` as a non-negative integer of at most ``maximum``; ``None`` if it is anything else."""
    if raw is None or not 0 < len(raw) <= len(str(maximum)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= maximum else None
