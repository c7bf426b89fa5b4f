"""Every third-party module the app or the CLIs import is a declared dependency.

Core modules must come from ``[project].dependencies`` (``pip install .`` alone runs the app);
the optional judge backends are imported only through :mod:`metaeval.judges.registry` and belong
to the extra the registry names. The check reads the import statements of every module in
``annotate/`` and ``metaeval/`` with :mod:`ast` and maps them to distributions with
:func:`importlib.metadata.packages_distributions`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("annotate", "metaeval")
#: Modules allowed to import an optional SDK: the backend modules the registry loads lazily.
OPTIONAL = {
    "openai": ("openai", "metaeval/judges/openai_compatible.py"),
    "anthropic": ("anthropic", "metaeval/judges/anthropic_backend.py"),
    "llama_cpp": ("local", "metaeval/judges/local_gguf.py"),
}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string, e.g. ``'markdown-it-py>=3'``."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _imports() -> dict[str, set[str]]:
    """Top-level third-party module name -> the files (relative paths) importing it."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in PACKAGES or top == "__future__":
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_markdown_it_is_a_core_dependency():
    # The app's safe renderer imports markdown_it on the first pair it shows.
    assert "markdown-it-py" in {_name(r) for r in _project()["dependencies"]}


def test_every_imported_module_is_declared():
    core = {_name(r) for r in _project()["dependencies"]}
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in _project()["optional-dependencies"].items()}
    dists = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(_imports().items()):
        if module not in dists:
            problems.append(f"{module} (imported by {sorted(files)}) is not installed in this environment")
            continue
        names = {_name(d) for d in dists[module]}
        if module in OPTIONAL:
            extra, allowed_file = OPTIONAL[module]
            if files != {allowed_file}:
                problems.append(f"{module} is optional ([{extra}]) but imported by {sorted(files - {allowed_file})}")
            if not names & extras[extra]:
                problems.append(f"{module} is not in the [{extra}] extra")
            continue
        if not names & core:
            problems.append(f"{module} (distribution {sorted(names)}, imported by {sorted(files)[:3]}) "
                            "is not a core dependency in pyproject.toml")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("provider", "extra"), [("openai", "openai"), ("anthropic", "anthropic"),
                                                   ("local", "local")])
def test_missing_backend_names_its_extra(provider, extra, monkeypatch):
    from metaeval.judges import registry

    module = OPTIONAL[registry.PROVIDERS[provider].packages[0]][1]
    dotted = module.removesuffix(".py").replace("/", ".")
    monkeypatch.delitem(sys.modules, dotted, raising=False)
    for package in registry.PROVIDERS[provider].packages:
        monkeypatch.setitem(sys.modules, package, None)  # import of it raises ImportError
    with pytest.raises(registry.BackendUnavailable, match=re.escape(f"writingjudge[{extra}]")):
        registry.load_factory(provider)
