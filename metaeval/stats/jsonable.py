"""Turn statistics results into plain JSON-ready values.

Example:
    >>> import numpy as np
    >>> json_ready({"n": np.int64(3), "ci": (np.float64(0.5), float("nan"))})
    {'n': 3, 'ci': [0.5, None]}
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["json_ready", "finite_or_none"]


def json_ready(obj: Any) -> Any:
    """``obj`` with numpy integers as ``int``, floats as ``float`` (``None`` where not finite) and
    tuples as lists, recursively through dicts and lists; other values unchanged."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return None if not np.isfinite(obj) else float(obj)
    return obj


def finite_or_none(x: Any) -> float | None:
    """``float(x)``, or ``None`` when it is not finite.

    >>> finite_or_none(0.25), finite_or_none(float("inf"))
    (0.25, None)
    """
    x = float(x)
    return x if np.isfinite(x) else None
