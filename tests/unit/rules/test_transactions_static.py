"""One way to end a writing transaction: :func:`annotate.db.engine.transaction`.

A hand-written ``try: ... session.commit() / except BaseException: session.rollback(); raise``
block is what ``transaction(session)`` does; this test parses every module of ``annotate``
and fails on a new copy of it (a handler for ``BaseException``, ``Exception`` or everything
that rolls a session back). The helper itself and the judgment submit, which retries its
transaction after a race, are the listed exceptions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ALLOWED = {
    ("annotate/db/engine.py", "transaction"),  # the helper
    ("annotate/services/annotate/judgments.py", "_attempts"),  # rolls back, then retries the submit
}


def hand_written_rollbacks(source: str) -> list[tuple[str, int]]:
    """(function, line) of each catch-all handler that calls ``<something>.rollback()``.

    Example:
        >>> code = "def f(s):\\n    try:\\n        s.commit()\\n    except BaseException:\\n        s.rollback()\\n        raise\\n"
        >>> hand_written_rollbacks(code)
        [('f', 4)]
        >>> hand_written_rollbacks(code.replace("BaseException", "IntegrityError"))
        []
    """
    found: list[tuple[str, int]] = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for handler in ast.walk(function):
            if not isinstance(handler, ast.ExceptHandler):
                continue
            catch_all = handler.type is None or (isinstance(handler.type, ast.Name)
                                                 and handler.type.id in ("BaseException", "Exception"))
            rolls_back = any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                             and node.func.attr == "rollback" for stmt in handler.body for node in ast.walk(stmt))
            if catch_all and rolls_back:
                found.append((function.name, handler.lineno))
    return found


def test_no_hand_written_transaction_blocks() -> None:
    offenders = []
    for path in sorted((ROOT / "annotate").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("annotate/migrations/"):
            continue
        for name, line in hand_written_rollbacks(path.read_text(encoding="utf-8")):
            if (rel, name) not in ALLOWED:
                offenders.append(f"{rel}:{line} in {name}()")
    assert offenders == [], "use annotate.db.engine.transaction(session) instead:\n" + "\n".join(offenders)
