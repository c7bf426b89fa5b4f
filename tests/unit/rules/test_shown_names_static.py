"""Every page shows a stored study name, material title or cause through the one display function.

Names stored before :mod:`annotate.services.core.names` had rules may hold a newline, U+202E,
U+200B, 10,000 characters or a Cyrillic look-alike. Shown, they must go through
:func:`~annotate.services.core.names.shown_name` (escapes, length cap) or
:func:`~annotate.services.core.names.shown_names` (also tells look-alikes apart by id). This test
parses ``annotate/app_pages`` and ``annotate/ui`` with :mod:`ast` and checks three simple rules:

1. a picker (selectbox, radio, multiselect, pills, segmented control, select slider) labelled
   "Study", "Cause" or "Material" passes ``format_func=`` and that function calls ``shown_name``
   or indexes a mapping built by ``shown_names(...)``;
2. inside ``plain_label(...)`` or ``to_safe_markdown(...)`` (the markdown paths), any ``X.name``,
   ``X.title`` or ``study_name`` is wrapped in ``shown_name(...)``;
3. a download's ``file_name=`` holding ``X.name`` or ``study_name`` wraps it in ``file_name_part(...)``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED = sorted([*(ROOT / "annotate" / "app_pages").rglob("*.py"), *(ROOT / "annotate" / "ui").rglob("*.py")])
PICKERS = frozenset({"selectbox", "radio", "multiselect", "pills", "segmented_control", "select_slider"})
NAME_LABELS = frozenset({"Study", "Cause", "Material"})


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def _shown_maps(tree: ast.AST) -> set[str]:
    """Names bound to ``shown_names(...)`` anywhere in the module."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _call_name(node.value) == "shown_names":
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return out


def _names_outside(node: ast.AST, wrapper: str) -> list[ast.AST]:
    """``X.name`` / ``study_name`` under ``node`` not inside a call of ``wrapper``."""
    if _call_name(node) == wrapper:
        return []
    found: list[ast.AST] = []
    if (isinstance(node, ast.Attribute) and node.attr in ("name", "title")) or (isinstance(node, ast.Name)
                                                                       and node.id == "study_name"):
        found.append(node)
    for child in ast.iter_child_nodes(node):
        found.extend(_names_outside(child, wrapper))
    return found


def problems(source: str) -> list[str]:
    """The rule breaks in one module's source (line: what)."""
    tree = ast.parse(source)
    maps = _shown_maps(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        name = _call_name(node)
        if not isinstance(node, ast.Call):
            continue
        if name in PICKERS:
            label = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "label"), None)
            options = node.args[1] if len(node.args) > 1 else None
            fixed = isinstance(options, ast.List | ast.Tuple) and all(isinstance(e, ast.Constant) for e in options.elts)
            if isinstance(label, ast.Constant) and label.value in NAME_LABELS and not fixed:
                func = next((k.value for k in node.keywords if k.arg == "format_func"), None)
                ok = func is not None and any(
                    (isinstance(n, ast.Name) and n.id == "shown_name")
                    or (isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in maps)
                    for n in ast.walk(func))
                if not ok:
                    out.append(f"{node.lineno}: {label.value!r} picker without format_func through shown_name(s)")
        elif name in ("plain_label", "to_safe_markdown"):
            for arg in node.args:
                out += [f"{n.lineno}: {ast.unparse(n)} shown without shown_name" for n in _names_outside(arg, "shown_name")]
        for kw in node.keywords:
            if kw.arg == "file_name":
                out += [f"{n.lineno}: file name from {ast.unparse(n)} without file_name_part"
                        for n in _names_outside(kw.value, "file_name_part")]
    return out


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT / "annotate")))
def test_stored_names_are_shown_through_shown_name(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


def test_the_rule_catches_raw_names() -> None:
    """The checker itself: the shapes that showed names raw before (from the old pages)."""
    raw = '''
study = st.selectbox("Study", list(by_id), format_func=lambda i: by_id[i].name)
st.progress(0.5, text=f"in study {plain_label(study.name)}")
st.download_button("CSV", data, file_name=f"{study.name}-votes.csv")
name = st.selectbox("Study", [s.name for s in all_studies])
'''
    assert sorted(int(p.split(":")[0]) for p in problems(raw)) == [2, 3, 4, 5]
    fixed = '''
shown = shown_names({i: s.name for i, s in by_id.items()})
study = st.selectbox("Study", list(by_id), format_func=lambda i: shown[i])
st.progress(0.5, text=f"in study {plain_label(shown_name(study.name))}")
st.download_button("CSV", data, file_name=f"{file_name_part(study.name)}-votes.csv")
'''
    assert problems(fixed) == []
