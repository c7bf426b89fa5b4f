"""Pages show a refused action in a person's words: never ``str(InputError)``.

``str()`` of an :class:`~annotate.services.core.errors.InputError` names the internal field
(``field reason: reason is required``), which is right for the CLI and wrong on a page. This
test parses every module of ``annotate/app_pages`` and ``annotate/ui`` and the app's entry
script, and checks that inside every ``except ... as exc`` block the caught exception is only
ever handed to :func:`annotate.services.core.errors.for_person` (or to ``show_conflict``,
which shows it through ``for_person`` and reads its other attributes) — so ``plain_label(exc)``,
``f"{exc}"``, ``str(exc)`` or ``exc.message`` on a page fail here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED = sorted([*(ROOT / "annotate" / "app_pages").rglob("*.py"), *(ROOT / "annotate" / "ui").rglob("*.py"),
                  ROOT / "annotate" / "streamlit_app.py"])
ALLOWED_CALLS = frozenset({"for_person", "show_conflict"})


def raw_error_uses(source: str) -> list[tuple[int, str]]:
    """(line, code) of each use of a caught exception other than as the argument of an allowed call.

    Example:
        >>> raw_error_uses("try:\\n    f()\\nexcept E as exc:\\n    st.error(plain_label(for_person(exc)))\\n")
        []
        >>> raw_error_uses("try:\\n    f()\\nexcept E as exc:\\n    st.error(plain_label(exc))\\n")
        [(4, 'plain_label(exc)')]
    """
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or not handler.name:
            continue
        for stmt in handler.body:
            for node in ast.walk(stmt):
                if not (isinstance(node, ast.Name) and node.id == handler.name):
                    continue
                parent = parents[node]
                if (isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name)
                        and parent.func.id in ALLOWED_CALLS):
                    continue
                if isinstance(parent, ast.Raise):  # re-raised, or chained with "from"
                    continue
                found.append((node.lineno, ast.unparse(parent)))
    return found


def test_the_scan_sees_the_pages() -> None:
    names = {p.relative_to(ROOT / "annotate").as_posix() for p in SCANNED}
    assert {"app_pages/refine/adapt_query.py", "app_pages/annotate/judge_pairs.py", "ui/annotate/task_flow.py"} <= names


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pages_show_errors_through_for_person(path: Path) -> None:
    assert raw_error_uses(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("snippet", [
    'st.error(f"Not saved: {exc}")',
    "st.error(str(exc))",
    "st.warning(exc.message)",
    "st.error(plain_label(exc))",
])
def test_raw_uses_are_found(snippet: str) -> None:
    source = f"try:\n    save()\nexcept ServiceError as exc:\n    {snippet}\n"
    assert [line for line, _ in raw_error_uses(source)] == [4]
