"""The rendering kit (``annotate/ui/kit``) never touches the database.

Safe HTML and markdown, panes and heatmaps take plain values and return or draw them; they
import nothing from ``annotate.services``, ``annotate.db`` or the session shell
(``annotate.ui.session``), so any page or test can use them without a database. Parsed, not
imported: an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KIT = sorted((ROOT / "annotate" / "ui" / "kit").glob("*.py"))
FORBIDDEN = ("annotate.services", "annotate.db", "annotate.ui.session", "annotate.api", "sqlmodel", "sqlalchemy")


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at any depth.

    Example:
        >>> sorted(imported_modules("import os\\ndef f():\\n    from annotate.db.models import User\\n"))
        ['annotate.db.models', 'os']
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_kit_is_there() -> None:
    assert {p.name for p in KIT} >= {"safe_html.py", "safe_markdown.py", "sanitize.py", "panes.py", "heatmaps.py"}


@pytest.mark.parametrize("path", KIT, ids=lambda p: p.name)
def test_kit_module_imports_no_database(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path.read_text(encoding="utf-8"))
                 if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert bad == [], f"{path.name} imports {bad}"


def test_the_check_catches_a_service_import() -> None:
    source = "from annotate.services.core.errors import for_person\n"
    assert "annotate.services.core.errors" in imported_modules(source)
