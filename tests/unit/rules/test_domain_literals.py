"""Roles and statuses are named by their enums, never retyped as strings.

:mod:`annotate.services.core.roles` and :mod:`annotate.services.core.statuses` define every
role and every stored status once, as :class:`~enum.StrEnum` members. A bare ``"admin"`` or
``"pending"`` in a test of a value is a second spelling of the rule that a typo or a renamed
status silently breaks (``status == "aproved"`` is just never true). This scan parses every
module of ``annotate/`` with :mod:`ast` and fails where a string equal to a role or status
value stands

* in a comparison (``==``, ``!=``, ``in``, ``not in``, and the tuples those compare with),
* as an argument of a query filter or role check (``.where``, ``.filter``, ``.filter_by``,
  ``.in_``, ``require_role``, ``require_page_role``),
* as the value given to a ``status`` or ``role`` (keyword argument, or ``x.status = ...``).

Display text (column titles, captions) is not scanned: it says the word, it does not test it.
"""

from __future__ import annotations

import ast
import inspect
from enum import StrEnum
from pathlib import Path

import pytest

from annotate.services.core import roles, statuses

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "annotate"

#: Every role and status value, read from the enums themselves.
ENUMS = [obj for module in (roles, statuses) for _, obj in inspect.getmembers(module, inspect.isclass)
         if issubclass(obj, StrEnum) and obj is not StrEnum]
VALUES = frozenset(member.value for enum in ENUMS for member in enum)

#: Where the values are defined, or where old tables are created as they were.
DEFINITIONS = ("services/core/roles.py", "services/core/statuses.py")
#: Files allowed to keep role/status strings for a while (none now). Remove an entry once its
#: file is clean (the test below says when).
NOT_YET: frozenset[str] = frozenset()
FILTER_CALLS = frozenset({"where", "filter", "filter_by", "in_", "require_role", "require_page_role"})
VALUE_NAMES = frozenset({"status", "role"})


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _literals(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in VALUES]


def _direct_literals(node: ast.AST | None) -> list[ast.Constant]:
    """The value itself, or the branches of ``a if c else b``, when they are role/status strings."""
    if isinstance(node, ast.IfExp):
        return _direct_literals(node.body) + _direct_literals(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES:
        return [node]
    return []


def domain_literals(source: str) -> list[tuple[int, str]]:
    """(line, string) of each role or status value written as a string where it is tested or set.

    Example:
        >>> domain_literals('if user.role == "admin":\\n    pass\\n')
        [(1, 'admin')]
        >>> domain_literals('if user.role == Role.ADMIN:\\n    st.caption("admin")\\n')
        []
    """
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(source)):
        hits: list[ast.Constant] = []
        if isinstance(node, ast.Compare):
            hits = _literals(node)
        elif isinstance(node, ast.Call):
            if _called_name(node) in FILTER_CALLS:
                hits = [c for arg in [*node.args, *(k.value for k in node.keywords)] for c in _literals(arg)]
            hits += [c for k in node.keywords if k.arg in VALUE_NAMES for c in _direct_literals(k.value)]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr in VALUE_NAMES
                                                  for t in node.targets):
            hits = _direct_literals(node.value)
        found |= {(c.lineno, c.value) for c in hits}
    return sorted(found)


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if "migrations" not in p.relative_to(PACKAGE).parts
            and p.relative_to(PACKAGE).as_posix() not in DEFINITIONS]


def test_the_values_come_from_the_enums() -> None:
    # Four roles (annotator, expert, researcher, admin) and the statuses of five columns.
    assert {"annotator", "expert", "researcher", "admin"} <= VALUES
    assert {"active", "closed", "archived", "pending", "skipped", "done", "superseded", "approved",
            "rejected", "open", "resolved"} <= VALUES


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_roles_and_statuses_are_enum_members(path: Path) -> None:
    if path.relative_to(PACKAGE).as_posix() in NOT_YET:
        pytest.skip("listed in NOT_YET")
    hits = domain_literals(path.read_text(encoding="utf-8"))
    assert not hits, (f"{path.relative_to(ROOT)}: write roles and statuses as members of "
                      "annotate.services.core.roles.Role / annotate.services.core.statuses, not strings: "
                      + ", ".join(f"line {line}: {value!r}" for line, value in hits))


def test_the_not_yet_list_only_names_files_that_need_it() -> None:
    clean = sorted(name for name in NOT_YET
                   if not (PACKAGE / name).is_file() or not domain_literals((PACKAGE / name).read_text("utf-8")))
    assert not clean, f"no role/status strings left in {clean}: remove them from NOT_YET"


@pytest.mark.parametrize("snippet", [
    'done = [r for r in rows if r.status == "done"]',
    'if role in ("researcher", "admin"):\n    pass',
    'if task.status != "pending" and ok:\n    pass',
    'q = select(User).where(User.role == "admin")',
    'q = select(Doc).where(col(Doc.status).in_(["active", "pending"]))',
    'actor = require_role(actor, "researcher", "admin")',
    'session.add(User(username="x", role="annotator"))',
    'document.status = "active" if approve else "rejected"',
])
def test_the_scan_sees_a_string_role_or_status(snippet: str) -> None:
    assert domain_literals(snippet), snippet


@pytest.mark.parametrize("snippet", [
    'done = [r for r in rows if r.status == TaskStatus.DONE]',
    'st.caption("pending edits")',
    'row = {"done": 3, "total": 4}',
    'if kind == "ranking":\n    pass',
    'print("admin")',
])
def test_the_scan_leaves_other_strings_alone(snippet: str) -> None:
    assert domain_literals(snippet) == []
