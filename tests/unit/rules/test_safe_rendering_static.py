"""Every string the pages hand to Streamlit's markdown comes from the safe path.

Streamlit parses markdown in ``st.markdown``/``st.caption``/``st.write``, the alert boxes,
titles and headers, expander/popover/tab labels, every widget label, every ``help=``
tooltip, metric values, progress and spinner texts, and the options of radio buttons and
pills. A markdown image there
is fetched by the reader's browser; so anything that came from an import, an upload or a
user must reach these places escaped (:func:`annotate.ui.kit.safe_markdown.plain_label`),
rendered safely (:func:`annotate.ui.kit.safe_markdown.to_safe_markdown`,
:func:`annotate.ui.kit.panes.pane_markdown`) or as sanitized HTML (``st.html`` of
:func:`annotate.ui.kit.safe_html.markdown_to_safe_html`, :func:`annotate.ui.kit.sanitize.sanitize_html`,
:func:`annotate.ui.kit.panes.text_view_html`).

This test parses every module of ``annotate/app_pages`` and ``annotate/ui`` and the app's
entry ``annotate/streamlit_app.py`` with :mod:`ast`
and checks each such argument statically. An expression counts as safe when it is

* a literal (string, number, ``None``), or a list/tuple/dict of safe parts;
* an f-string whose every interpolation is safe, or is a number: wrapped by ``len``,
  ``int``, ``float``, ``round``, ``abs``, ``sum``, or formatted with a numeric format spec
  (``{n:d}``, ``{n:,}``, ``{x:.2f}``, ``{p:.0%}``: formatting a string with those raises,
  so they cannot carry text);
* in an ``st.html`` body (no markdown there) also ``html.escape(...)``;
* a call of a safe helper (:data:`SAFE_HELPERS`) or of a function of the scanned modules
  whose every ``return`` is safe; ``str.join``/``str.format``/``+``/``%`` of safe parts;
  ``X.get(k, default)``, ``X[k]``, ``X.items()`` of a safe collection; a conditional of
  safe branches; a comparison or a boolean;
* an ``UPPER_CASE`` constant (a constant of the code: its value is checked where it is
  defined in a scanned module, and trusted when imported from elsewhere in ``annotate``);
* a local name every assignment of which is safe (a loop or comprehension variable is as
  safe as what it iterates over; ``enumerate``'s counter is a number). Function
  parameters are never safe: a helper that shows its argument wraps it.

``format_func`` of a radio or pills widget must return safe text; select boxes and
multiselects show their options as plain text (no markdown), so theirs are not checked.
``st.table`` renders its cells as markdown: its data must be safe too (``st.dataframe``
shows text and is what data goes to).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCANNED = sorted([*(ROOT / "annotate" / "app_pages").rglob("*.py"), *(ROOT / "annotate" / "ui").rglob("*.py"),
                  ROOT / "annotate" / "streamlit_app.py"])

SAFE_HELPERS = frozenset({
    "plain_label", "to_safe_markdown", "pane_markdown", "markdown_to_safe_html", "sanitize_html",
    "text_view_html", "char_count_label",
    "css_height",  # annotate.ui.kit.panes: a CSS length of letters, digits and ().%+-*/ , only, else it raises
})
"""Functions whose result is safe whatever their argument (the safe path itself)."""

NUMERIC = frozenset({"len", "int", "float", "round", "abs", "sum", "bool", "divmod"})
"""Functions whose result is a number (or a bool)."""

SAFE_WRAPPERS = frozenset({"sorted", "list", "tuple", "reversed", "set", "dict", "str", "filter", "min", "max",
                           "PreparedHtml"})
"""Functions whose result is as safe as their arguments (``filter(None, x)``: as ``x``)."""

MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "setdefault"})
"""Methods that put values into a collection: ``parts.append(x)`` binds ``parts`` to ``x`` too."""

SAFE_METHODS = frozenset({"upper", "lower", "strip", "capitalize", "title", "rstrip", "lstrip", "items", "replace", "pop",
                          "values", "keys", "copy"})
"""String and collection methods whose result is as safe as the object."""

# Calls ``<receiver>.<name>(...)`` that render their first argument as markdown (``write``:
# every positional argument), and widgets whose first argument is a markdown label.
MARKDOWN_BODY = frozenset({"markdown", "caption", "write", "info", "success", "warning", "error", "title",
                           "header", "subheader", "toast", "expander", "popover", "status", "metric"})
WIDGETS = frozenset({"button", "download_button", "link_button", "form_submit_button", "checkbox", "toggle",
                     "radio", "selectbox", "multiselect", "select_slider", "slider", "text_input", "text_area",
                     "number_input", "date_input", "time_input", "file_uploader", "color_picker", "pills",
                     "segmented_control", "camera_input"})
MARKDOWN_OPTIONS = frozenset({"radio", "pills", "segmented_control"})
"""Widgets whose options are rendered as markdown."""
METRIC_PARTS = ("value", "delta")
NOT_STREAMLIT = frozenset({"logger", "logging", "log", "LOGGER", "_log", "parser", "_PARSER", "re", "os", "sys"})
"""Receivers whose methods of the same names are not Streamlit's (``logger.error``...)."""

# The allowlist: (file, line text fragment) of arguments the analysis cannot prove safe but
# that are. Keep it small; say why.
ALLOWLIST: dict[tuple[str, str], str] = {
    ("annotate/ui/refine/refine_widgets.py", "st.html(diff_table_html("):
        "difflib.HtmlDiff escapes both texts (&, <, >) and diff_table_html escapes the two labels",
}


class Module:
    """One parsed module: its tree, parents, and top-level definitions."""

    def __init__(self, path: Path, source: str | None = None) -> None:
        self.path = path
        self.rel = path.relative_to(ROOT).as_posix()
        self.source = path.read_text(encoding="utf-8") if source is None else source
        self.lines = self.source.splitlines()
        self.tree = ast.parse(self.source, filename=str(path))
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.functions = {n.name: n for n in self.tree.body if isinstance(n, ast.FunctionDef)}
        self.imports: dict[str, tuple[str, str]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.module, alias.name)


@cache
def module_named(dotted: str) -> Module | None:
    path = ROOT / Path(*dotted.split(".")).with_suffix(".py")
    return Module(path) if path in SCANNED else None


@cache
def module_at(path: Path) -> Module:
    return Module(path)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _numeric_spec(spec: ast.AST | None) -> bool:
    if not isinstance(spec, ast.JoinedStr) or not all(isinstance(v, ast.Constant) for v in spec.values):
        return False
    text = "".join(str(v.value) for v in spec.values)  # type: ignore[attr-defined]
    return bool(text) and (text[-1] in "dfFeEgGn%bxXo" or any(c in text for c in ",_%"))


class Checker:
    """Decides whether expressions of one module are safe."""

    def __init__(self, module: Module, *, html_context: bool = False) -> None:
        self.m = module
        self._busy: set[tuple[str, int]] = set()
        self.html_context = html_context  # checking an st.html body: html.escape() is enough there
        self._safe_lambdas: set[int] = set()  # format_func lambdas whose argument is a safe option

    # ---------------------------------------------------------------- names
    def _scope(self, node: ast.AST) -> ast.AST:
        cur = self.m.parent.get(node)
        while cur is not None and not isinstance(cur, _SCOPES):
            cur = self.m.parent.get(cur)
        return cur if cur is not None else self.m.tree

    def _in_scope(self, scope: ast.AST):  # type: ignore[no-untyped-def]
        """Nodes of ``scope`` outside nested functions."""
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.extend(ast.iter_child_nodes(node))

    def name_safe(self, node: ast.Name) -> bool:
        name = node.id
        # comprehension variables
        cur = self.m.parent.get(node)
        while cur is not None and not isinstance(cur, _SCOPES):
            if isinstance(cur, _COMPREHENSIONS):
                for gen in cur.generators:
                    if name in _names(gen.target):
                        return self.iter_item_safe(gen.iter, gen.target, name)
            cur = self.m.parent.get(cur)
        scope = self._scope(node)
        while True:
            verdict = self._name_in_scope(name, scope)
            if verdict is not None:
                return verdict
            if isinstance(scope, ast.Module):
                break
            scope = self._scope(scope)
        if name in self.m.imports:
            source, original = self.m.imports[name]
            if original in SAFE_HELPERS or original.isupper() and not source.startswith("annotate"):
                return original in SAFE_HELPERS or True
            other = module_named(source)
            if other is not None:
                return Checker(other).name_safe_at_module(original)
            return original.isupper() and source.startswith("annotate")
        return name in SAFE_HELPERS or name in {"True", "False", "None"}

    def name_safe_at_module(self, name: str) -> bool:
        verdict = self._name_in_scope(name, self.m.tree)
        return bool(verdict) or name in SAFE_HELPERS

    def _name_in_scope(self, name: str, scope: ast.AST) -> bool | None:
        """Safety of ``name`` bound in ``scope``; ``None`` when not bound there."""
        key = (name, id(scope))
        if key in self._busy:
            return True  # a cycle (x = x + "a"): decided by its other assignments
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = scope.args
            params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            params += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            if name in params:
                return id(scope) in self._safe_lambdas  # a format_func's option, when the options are safe
        bound: list[bool] = []
        self._busy.add(key)
        try:
            for node in self._in_scope(scope):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if name in _names(target):
                            bound.append(self.unpacked_safe(target, node.value, name))
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name)
                      and node.func.value.id == name):
                    bound.append(all(self.safe(a) for a in (*node.args, *(k.value for k in node.keywords))))
                elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and name in _names(
                        node.target) and node.value is not None:
                    bound.append(self.safe(node.value))
                elif isinstance(node, (ast.For, ast.AsyncFor)) and name in _names(node.target):
                    bound.append(self.iter_item_safe(node.iter, node.target, name))
                elif isinstance(node, ast.withitem) and node.optional_vars is not None and name in _names(
                        node.optional_vars):
                    bound.append(False)
                elif isinstance(node, ast.ExceptHandler) and node.name == name:
                    bound.append(False)  # exception text may quote data
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                    bound.append(True)
                elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                        (a.asname or a.name) == name for a in node.names):
                    return None  # decided by the import rules
        finally:
            self._busy.discard(key)
        return all(bound) if bound else None

    def unpacked_safe(self, target: ast.AST, value: ast.AST, name: str) -> bool:
        if isinstance(target, ast.Name):
            return self.safe(value)
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) and len(
                target.elts) == len(value.elts):
            return all(self.unpacked_safe(t, v, name) for t, v in zip(target.elts, value.elts, strict=True)
                       if name in _names(t))
        return self.safe(value)  # every element of a safe value is safe

    def iter_item_safe(self, iterable: ast.AST, target: ast.AST, name: str) -> bool:
        """Whether ``name`` (in ``target``) is safe for each item of ``iterable``."""
        if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id
                == "enumerate" and iterable.args and isinstance(target, ast.Tuple) and len(target.elts) == 2):
            counter, item = target.elts
            if isinstance(counter, ast.Name) and counter.id == name:
                return True  # a number
            return self.iter_item_safe(iterable.args[0], item, name)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id in {
                "range"}:
            return True
        if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "zip"
                and isinstance(target, ast.Tuple) and len(target.elts) == len(iterable.args)):
            return all(self.iter_item_safe(it, t, name) for it, t in zip(iterable.args, target.elts, strict=True)
                       if name in _names(t))
        if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):  # a literal: each item unpacked in turn
            return all(self.unpacked_safe(target, item, name) for item in iterable.elts)
        return self.safe(iterable)

    # ---------------------------------------------------------------- expressions
    def function_safe(self, func: ast.FunctionDef) -> bool:
        key = (f"def {func.name}", id(func))
        if key in self._busy:
            return True
        self._busy.add(key)
        try:
            returns = [n for n in self._in_scope(func) if isinstance(n, ast.Return)]
            return all(r.value is None or self.safe(r.value) for r in returns)
        finally:
            self._busy.discard(key)

    def callee_safe(self, func: ast.AST) -> bool:
        """Whether calling ``func`` gives a safe result whatever the arguments."""
        if self.html_context and (isinstance(func, ast.Name) and func.id == "escape" or isinstance(
                func, ast.Attribute) and func.attr == "escape" and _receiver(func) == "html"):
            return True
        if isinstance(func, ast.Name):
            if func.id in SAFE_HELPERS or func.id in NUMERIC:
                return True
            if func.id in self.m.functions:
                return self.function_safe(self.m.functions[func.id])
            if func.id in self.m.imports:
                source, original = self.m.imports[func.id]
                if original in SAFE_HELPERS:
                    return True
                other = module_named(source)
                if other is not None and original in other.functions:
                    return Checker(other, html_context=self.html_context).function_safe(other.functions[original])
            return False
        if isinstance(func, ast.Attribute):
            return func.attr in SAFE_HELPERS
        if isinstance(func, ast.Lambda):
            return self.safe(func.body)
        return False

    def safe(self, node: ast.AST | None) -> bool:  # noqa: C901 - one case per kind of expression
        if node is None or isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return _numeric_spec(node.format_spec) or self.safe(node.value) and (
                node.format_spec is None or self.safe(node.format_spec))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return all(self.safe(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return all(self.safe(k) for k in node.keys if k is not None) and all(self.safe(v) for v in node.values)
        if isinstance(node, _COMPREHENSIONS):
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            return all(self.safe(p) for p in parts)
        if isinstance(node, ast.Name):
            return node.id.isupper() and self._upper_ok(node) or self.name_safe(node)
        if isinstance(node, ast.Attribute):
            return node.attr.isupper()
        if isinstance(node, ast.Subscript):
            return self.safe(node.value)
        if isinstance(node, ast.IfExp):
            return self.safe(node.body) and self.safe(node.orelse)
        if isinstance(node, ast.BoolOp):
            return all(self.safe(v) for v in node.values)
        if isinstance(node, (ast.Compare, ast.UnaryOp)):
            return True  # a bool, or the sign of a number
        if isinstance(node, ast.BinOp):
            return self.safe(node.left) and self.safe(node.right)
        if isinstance(node, ast.Starred):
            return self.safe(node.value)
        if isinstance(node, ast.Lambda):
            return self.safe(node.body)
        if isinstance(node, ast.Call):
            func = node.func
            if self.callee_safe(func):
                return True
            args = [*node.args, *(k.value for k in node.keywords)]
            if isinstance(func, ast.Name) and func.id in SAFE_WRAPPERS:
                return all(self.safe(a) for a in args if not (isinstance(a, ast.Constant) and a.value is None))
            if isinstance(func, ast.Attribute) and (func.attr in {"join", "format", "get"} or func.attr in SAFE_METHODS):
                rest = args[1:] if func.attr == "get" else args
                return self.safe(func.value) and all(self.safe(a) for a in rest)
            return False
        return False

    def _upper_ok(self, node: ast.Name) -> bool:
        """An UPPER_CASE name: a constant of the code, checked where a scanned module defines it."""
        verdict = self._name_in_scope(node.id, self.m.tree)
        return True if verdict is None else verdict

    def callable_output_safe(self, node: ast.AST, options: ast.AST | None = None) -> bool:
        """Whether ``format_func=node`` returns safe text (its argument is one of ``options``)."""
        if isinstance(node, ast.Lambda) and options is not None and self.safe(options):
            self._safe_lambdas.add(id(node))
            try:
                return self.safe(node.body)
            finally:
                self._safe_lambdas.discard(id(node))
        if isinstance(node, ast.Attribute) and node.attr == "get":
            return self.safe(node.value)
        if isinstance(node, ast.Name) and node.id in self.m.functions:
            return self.function_safe(self.m.functions[node.id])
        if isinstance(node, ast.Name):
            scope = self._scope(node)
            for inner in self._in_scope(scope):
                if isinstance(inner, ast.FunctionDef) and inner.name == node.id:
                    return self.function_safe(inner)
        return self.callee_safe(node)


def _receiver(func: ast.Attribute) -> str:
    base: ast.AST = func.value
    while isinstance(base, (ast.Attribute, ast.Subscript, ast.Call)):
        base = base.value if not isinstance(base, ast.Call) else base.func
    return base.id if isinstance(base, ast.Name) else ""


def _flag(node: ast.AST) -> ast.Name:
    """A marker expression, at ``node``'s line, for a call that is never allowed."""
    return ast.copy_location(ast.Name("__never__"), node)


def sinks(module: Module):  # type: ignore[no-untyped-def]
    """Every (description, expression, is_callable) the pages hand to Streamlit's markdown."""
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        html_flag = keywords.get("unsafe_allow_html")
        if html_flag is not None and not (isinstance(html_flag, ast.Constant) and html_flag.value is False):
            yield "unsafe_allow_html (use st.html of sanitized HTML)", _flag(node), False
        if "help" in keywords:
            yield "help=", keywords["help"], False
        func = node.func
        if not isinstance(func, ast.Attribute) or _receiver(func) in NOT_STREAMLIT:
            continue
        name = func.attr
        if name == "table" and _receiver(func) == "st":
            for arg in node.args[:1] or [keywords[k] for k in ("data",) if k in keywords]:
                yield "st.table data (its cells are markdown; data goes to st.dataframe)", arg, False
        if name == "html" and _receiver(func) == "st":
            for arg in node.args[:1]:
                yield "st.html body", arg, "html"
        if name in MARKDOWN_BODY or name in WIDGETS:
            if not node.args and not keywords:
                continue  # "text".title()
            first = node.args[:1] or [keywords[k] for k in ("body", "label") if k in keywords]
            for arg in (node.args if name == "write" else first):
                yield f".{name}() label/body", arg, False
            if name == "metric":
                for i, part in enumerate(METRIC_PARTS, start=1):
                    value = node.args[i] if len(node.args) > i else keywords.get(part)
                    if value is not None:
                        yield f".metric() {part}", value, False
        if name in {"progress", "spinner"}:
            text = keywords.get("text", node.args[1] if name == "progress" and len(node.args) > 1 else
                                node.args[0] if name == "spinner" and node.args else None)
            if text is not None:
                yield f".{name}() text", text, False
        if name == "tabs" and node.args:
            yield ".tabs() labels", node.args[0], False
        if name in MARKDOWN_OPTIONS:
            options = node.args[1] if len(node.args) > 1 else keywords.get("options")
            if "format_func" in keywords:
                yield f".{name}() format_func", keywords["format_func"], ("callable", options)
            elif options is not None:
                yield f".{name}() options", options, False
            if "captions" in keywords:
                yield f".{name}() captions", keywords["captions"], False


def _violations(module: Module) -> list[str]:
    checker, html_checker = Checker(module), Checker(module, html_context=True)
    found = []
    for what, expr, kind in sinks(module):
        if isinstance(expr, ast.Name) and expr.id == "__never__":
            ok = False
        elif kind == "html":
            ok = html_checker.safe(expr)
        elif kind:
            ok = checker.callable_output_safe(expr, kind[1])
        else:
            ok = checker.safe(expr)
        if ok:
            continue
        line = module.lines[expr.lineno - 1] if hasattr(expr, "lineno") else ""
        if any(file == module.rel and fragment in line for file, fragment in ALLOWLIST):
            continue
        where = f"{module.rel}:{getattr(expr, 'lineno', '?')}"
        found.append(f"{where}: {what}: {ast.unparse(expr) if hasattr(expr, 'lineno') else ''}")
    return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.name)
def test_every_markdown_argument_comes_from_the_safe_path(path):
    problems = _violations(module_at(path))
    assert not problems, ("not proven safe (wrap with plain_label() / to_safe_markdown(), or show with "
                          "st.text/st.code/st.dataframe):\n" + "\n".join(problems))


def test_the_navigation_account_heading_is_safe():
    """``st.navigation`` renders its section headings as markdown; one of them names the person."""
    module = module_at(ROOT / "annotate" / "streamlit_app.py")
    assert Checker(module).function_safe(module.functions["account_label"])


# ------------------------------------------------------------------ the rules themselves

_UNSAFE_SNIPPETS = {
    "criterion label": "def f(name):\n    st.radio(name, ['a'])",
    "criterion help": "def f(d):\n    st.radio('x', ['a'], help=d)",
    "bold name": "def f(n):\n    st.markdown(f'- **{n}**')",
    "caption of data": "rows = load()\nst.caption(f'{rows[0].title} · {len(rows)}')",
    "error text": "try:\n    x()\nexcept E as exc:\n    st.error(str(exc))",
    "radio format_func": "labels = dict(load())\nst.radio('Q', [1], format_func=labels.get)",
    "format_func of data": "st.pills('P', load(), format_func=lambda o: f'Raw: {o}')",
    "tabs of names": "st.tabs([r.label for r in runs()])",
    "appended parts": "parts = []\nparts.append(load())\nst.markdown(''.join(parts))",
    "loop variable": "for name in load():\n    st.write(name)",
    "html flag": "st.markdown('x', unsafe_allow_html=True)",
    "string spec": "st.markdown(f'{load():>10}')",
    "metric value": "st.metric('n', load())",
}
_SAFE_SNIPPETS = {
    "literal": "st.markdown('**Query**')",
    "escaped": "def f(n):\n    st.markdown(f'- **{plain_label(n)}** {to_safe_markdown(n)}')",
    "numbers": "def f(t):\n    st.subheader(f'Pair {t.position:d} of {len(t.rows)} ({t.share:.0%}) {t.at:%Y-%m-%d}')",
    "constant labels": "LABELS = {'a': 'A is better'}\nst.radio('Choice', ['a'], format_func=LABELS.get)",
    "format_func of constants": "PANES = ('Query', 'A')\nst.pills('P', PANES, format_func=lambda o: f'Raw: {o}')",
    "enumerate counter": "for i, c in enumerate(load()):\n    st.caption(f'Criterion {i}')",
    "literal loop": "for col, label in ((c1, 'Verify'), (c2, 'Reject')):\n    col.button(label)",
    "helper": "def g(x):\n    return plain_label(x) + ' · ' + f'{x.n:,}'\nst.caption(g(load()))",
    "html escape": "def f(v):\n    st.html(PreparedHtml(f'<p title=\"{html.escape(v)}\">{sanitize_html(v)}</p>'))",
}


def _snippet(source: str) -> list[str]:
    return _violations(Module(ROOT / "annotate" / "app_pages" / "snippet.py", source))


@pytest.mark.parametrize("name", _UNSAFE_SNIPPETS)
def test_the_check_refuses_data_outside_the_safe_path(name):
    assert _snippet(_UNSAFE_SNIPPETS[name]), name


@pytest.mark.parametrize("name", _SAFE_SNIPPETS)
def test_the_check_accepts_the_safe_path(name):
    assert _snippet(_SAFE_SNIPPETS[name]) == [], name
