"""Small frozen value types shared across :mod:`metaeval`.

These are plain dataclasses with no behaviour beyond light normalisation, so that readers,
judges, the statistics and the ``annotate`` bridge can exchange data without importing one
another.

Example:
    >>> v = Vote(question_id=1, model_a="x", model_b="y", winner="model_a", judge="ann1")
    >>> v.outcome
    1
    >>> v.canonical().model_a <= v.canonical().model_b
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Winner = Literal["model_a", "model_b", "tie"]

#: Criterion score bands, in WritingBench's checklist layout.
BANDS: tuple[str, ...] = ("1-2", "3-4", "5-6", "7-8", "9-10")


def normalise_winner(winner: str) -> str:
    """Map FastChat winner strings to ``model_a``, ``model_b`` or ``tie``.

    Any winner starting with ``"tie"`` (``"tie (bothbad)"``, ``"tie (inconsistent)"``) is a tie.

    >>> normalise_winner("tie (bothbad)")
    'tie'
    """
    w = winner.strip()
    if w in ("model_a", "model_b"):
        return w
    if w.startswith("tie"):
        return "tie"
    raise ValueError(f"unknown winner {winner!r}; expected model_a, model_b or tie")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One scoring criterion: a name, a description and the five score bands.

    >>> c = Criterion("Clarity", "Is it clear?", {"1-2": "unclear", "9-10": "crystal"})
    >>> c.bands["9-10"]
    'crystal'
    """

    name: str
    description: str
    bands: dict[str, str] = field(default_factory=dict, hash=False, compare=True)

    def to_checklist(self) -> dict[str, str]:
        """WritingBench's checklist layout."""
        return {"name": self.name, "criteria_description": self.description, **self.bands}

    @classmethod
    def from_checklist(cls, obj: dict) -> Criterion:
        """Build from WritingBench's checklist layout."""
        return cls(name=str(obj["name"]), description=str(obj.get("criteria_description", "")),
                   bands={k: str(obj[k]) for k in BANDS if k in obj})


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One judge score of one response under one criterion (the long layout of docs/formats.md)."""

    index: int | str
    model: str
    judge: str
    method: str
    criterion: str
    score: float  # an int for WritingBench's 1-10 scores; real-valued for weighted roots (``tow``)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Vote:
    """One pairwise judgment (human or judge) in FastChat's layout.

    ``winner`` is normalised to ``model_a``, ``model_b`` or ``tie``; ``order`` ("ab"/"ba") records a
    judge presentation order, ``criterion`` is None for the overall judgment.
    """

    question_id: int | str
    model_a: str
    model_b: str
    winner: str
    judge: str = ""
    order: str | None = None
    shown_left: str | None = None
    criterion: str | None = None
    domain1: str | None = None
    domain2: str | None = None
    lang: str | None = None
    stale: bool = False
    extra: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "winner", normalise_winner(self.winner))

    @property
    def outcome(self) -> int:
        """+1 when model_a wins, -1 when model_b wins, 0 for a tie."""
        return {"model_a": 1, "model_b": -1, "tie": 0}[self.winner]

    @property
    def pair_key(self) -> tuple[str, str, str]:
        """(question_id as text, lower model name, higher model name): order-free pair identity."""
        lo, hi = sorted((self.model_a, self.model_b))
        return (str(self.question_id), lo, hi)

    def canonical(self) -> Vote:
        """The same vote with models sorted by name (winner swapped accordingly)."""
        if self.model_a <= self.model_b:
            return self
        swap = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
        return replace(self, model_a=self.model_b, model_b=self.model_a, winner=swap[self.winner])

    def to_dict(self) -> dict:
        """FastChat layout (optional fields only when set)."""
        d: dict = {"question_id": self.question_id, "model_a": self.model_a, "model_b": self.model_b,
                   "winner": self.winner, "judge": self.judge}
        for key in ("order", "shown_left", "criterion", "domain1", "domain2", "lang"):
            val = getattr(self, key)
            if val is not None:
                d[key] = val
        if self.stale:
            d["stale"] = True
        d.update(dict(self.extra))
        return d


#: A judge's pairwise verdict has the same shape as a vote.
Verdict = Vote


@dataclass(frozen=True, slots=True)
class Rating:
    """One pointwise rating: ``{"item_id", "system", "rater", "criterion", "score"}``."""

    item_id: int | str
    system: str
    rater: str
    criterion: str
    score: float
