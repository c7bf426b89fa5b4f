"""Criteria methods as registered plug-ins.

A criteria method gives each query a *tree* of criteria: primary nodes (``groups``), each holding
leaves, and every leaf has a scorer -- ``llm`` (an LLM scores 1-10 against a rubric), ``llm-step``
(an LLM gives 0, 5 or 10) or ``rule`` (a function of the query and the response, no call). A method
may ask for per-query edge weights (Tree-of-Writing's negotiator); otherwise leaves under a node
weigh equally. The aggregation rule is the same for every method::

    Score(node j) = sum over its leaves of w_leaf * Score(leaf)    (w = 1/n_j when not negotiated)
    root          = sum over nodes of (n_j / n) * Score(node j)      n = sum of n_j

WritingBench's three methods are the flat case: one node, five ``llm`` leaves, equal weights, so
the root is the mean criterion score; they keep their historic code path (and byte-identical
outputs) through :attr:`CriteriaMethod.flat`.

Register a new method with :func:`register_method`; ``metaeval judge --method`` and
``metaeval grid --methods`` accept every registered name.

Example:
    >>> sorted(method_names())[:3]
    ['dynamic', 'static-domain', 'static-global']
    >>> tree = CriteriaTree(leaves=(Leaf("a/x", None, "rule"), Leaf("a/y", None, "rule"), Leaf("b", None, "rule")),
    ...                     groups=(("a", ("a/x", "a/y")), ("b", ("b",))))
    >>> aggregate(tree, {"a/x": 6, "a/y": 9, "b": 3}, {"a/x": 0.5, "a/y": 0.5})  # 2/3*7.5 + 1/3*3
    6.0
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaeval.criteria.dynamic import criteria_from_checklist
from metaeval.criteria.language import detect_language
from metaeval.criteria.schema import CriteriaError
from metaeval.criteria.static import load_static_domain, load_static_global
from metaeval.types import Criterion

SCORERS = ("llm", "llm-step", "rule")


@dataclass(frozen=True)
class Leaf:
    """One criterion leaf: its output name (``content/logic``), the criterion shown to an LLM
    scorer (None for a rule) and the scorer kind; ``rule(query, response) -> score`` for rules."""

    name: str
    criterion: Criterion | None
    scorer: str
    rule: Callable[[Mapping[str, Any], str], int] | None = None
    note: str = ""

    @property
    def description(self) -> str:
        """What the leaf checks: the criterion's description, else the note (step and rule leaves)."""
        return self.criterion.description if self.criterion is not None else self.note


@dataclass(frozen=True)
class CriteriaTree:
    """A query's criteria: leaves in output order and the primary nodes holding them."""

    leaves: tuple[Leaf, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def node_of(self, leaf: str) -> str:
        """The primary node a leaf hangs under."""
        for node, names in self.groups:
            if leaf in names:
                return node
        raise KeyError(leaf)


@dataclass(frozen=True)
class LLMAsk:
    """One LLM call a method needs besides the 1-10 criterion scores: the messages, the answer's
    validator (``parse(text) -> (value, reason)``, raising ``ParseError`` to ask again), the prompt
    version (part of the cache key) and the JSON schema sent to the backend."""

    messages: tuple[Mapping[str, str], ...]
    parse: Callable[[str], tuple[Any, str]]
    version: str
    schema: dict | None = None
    schema_name: str = "output"


@dataclass(frozen=True)
class MethodOptions:
    """File overrides a method may read (the static criteria files)."""

    global_path: str | Path | None = None
    domain_path: str | Path | None = None


def aggregate(tree: CriteriaTree, scores: Mapping[str, float], weights: Mapping[str, float] | None = None,
              *, nodes: tuple[str, ...] | None = None) -> float:
    """The root score of ``tree`` from leaf ``scores`` and edge ``weights`` (module docstring's rule).

    ``nodes`` keeps only some primary nodes (node ablation); n is renormalised over the kept ones.
    Missing weights mean equal weights within the node.

    >>> t = CriteriaTree((Leaf("x", None, "rule"), Leaf("y", None, "rule")), (("", ("x", "y")),))
    >>> aggregate(t, {"x": 4, "y": 8})
    6.0
    """
    kept = [(node, names) for node, names in tree.groups if names and (nodes is None or node in nodes)]
    if not kept:
        raise ValueError("no primary node left to aggregate")
    n = sum(len(names) for _, names in kept)
    root = 0.0
    for _, names in kept:
        if weights is not None and all(name in weights for name in names):
            node_score = sum(weights[name] * scores[name] for name in names)
        else:
            node_score = sum(scores[name] for name in names) / len(names)
        root += len(names) / n * node_score
    return root


class CriteriaMethod(ABC):
    """A registered criteria method."""

    name: str = ""
    description: str = ""
    #: True when the method is WritingBench's case (one node, equal weights, only ``llm`` leaves).
    flat: bool = False
    #: True when each query's edge weights come from an LLM (a negotiator call per query).
    negotiated: bool = False

    @abstractmethod
    def tree(self, query: Mapping[str, Any], *, options: MethodOptions, where: str) -> CriteriaTree:
        """The criteria tree for one query (``where`` locates the query in errors)."""

    def negotiation(self, query: Mapping[str, Any], tree: CriteriaTree, trial: int) -> LLMAsk | None:
        """The call that sets the query's edge weights ({leaf name: weight}); None when not negotiated."""
        return None

    def step_request(self, query: Mapping[str, Any], response: str, leaf: Leaf) -> LLMAsk:
        """The call for an ``llm-step`` leaf (value: the step score)."""
        raise NotImplementedError(f"method {self.name!r} has no step-scored leaves")


class FlatMethod(CriteriaMethod):
    """WritingBench's case: five LLM 1-10 criteria under one node, equal weights (the mean)."""

    flat = True

    def __init__(self, name: str, description: str,
                 pick: Callable[[Mapping[str, Any], MethodOptions, str], list[Criterion]]) -> None:
        self.name = name
        self.description = description
        self._pick = pick

    def criteria(self, query: Mapping[str, Any], *, options: MethodOptions, where: str) -> list[Criterion]:
        """The criteria in order (what the judge scores, one call each)."""
        return self._pick(query, options, where)

    def tree(self, query: Mapping[str, Any], *, options: MethodOptions, where: str) -> CriteriaTree:
        crits = self.criteria(query, options=options, where=where)
        leaves = tuple(Leaf(c.name, c, "llm") for c in crits)
        return CriteriaTree(leaves=leaves, groups=(("", tuple(leaf.name for leaf in leaves)),))


_REGISTRY: dict[str, CriteriaMethod] = {}


def register_method(method: CriteriaMethod) -> None:
    """Make ``method`` available by its name (replaces a method of the same name)."""
    if not method.name:
        raise ValueError("a criteria method needs a name")
    _REGISTRY[method.name] = method


def method_names() -> tuple[str, ...]:
    """Registered method names in registration order."""
    _load_builtin()
    return tuple(_REGISTRY)


def get_method(name: str) -> CriteriaMethod:
    """The registered method ``name`` (CriteriaError naming the known ones otherwise)."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise CriteriaError(f"unknown method {name!r}; expected one of {method_names()}") from None


def _static_global(query: Mapping[str, Any], options: MethodOptions, where: str) -> list[Criterion]:
    return load_static_global(detect_language(str(query["query"])), path=options.global_path)


def _static_domain(query: Mapping[str, Any], options: MethodOptions, where: str) -> list[Criterion]:
    domain = query.get("domain1")
    if not isinstance(domain, str):
        raise CriteriaError(f"{where}: field domain1: needed by the static-domain method")
    return load_static_domain(domain, detect_language(str(query["query"])), path=options.domain_path)


def _dynamic(query: Mapping[str, Any], options: MethodOptions, where: str) -> list[Criterion]:
    return criteria_from_checklist(query, where=where)


register_method(FlatMethod("static-global", "the same five criteria for every query, in its language",
                           _static_global))
register_method(FlatMethod("static-domain", "the five criteria written for the query's domain1", _static_domain))
register_method(FlatMethod("dynamic", "the query's own checklist (imported or generated)", _dynamic))

_BUILTIN_LOADED = False


def _load_builtin() -> None:
    """Register the methods that live in their own modules (imported on first lookup)."""
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    import metaeval.criteria.tow  # noqa: F401  (registers "tow")
