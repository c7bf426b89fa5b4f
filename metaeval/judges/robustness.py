"""Robustness of judges to damaged responses (the perturbation test of HoWToBench).

A response is split into paragraphs and damaged in one of three ways: ``drop`` removes 1-3
paragraphs, ``repeat`` copies 1-3 paragraphs to other positions, ``shuffle`` reorders them. A
sound judge scores the damaged text lower; for each kind we report the mean change of the
response score (damaged - original) with a bootstrap percentile interval, and flag the judge when
the interval's upper end is not below zero (no reliable drop).

Example:
    >>> import random
    >>> perturb("a\\n\\nb\\n\\nc", "drop", random.Random(1)).count("\\n\\n") < 2
    True
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("drop", "repeat", "shuffle")
#: Genre transfer (HoWToBench §6.2): an LLM rewrites the response into another genre.
TRANSFER = "transfer"
ALL_KINDS = (*KINDS, TRANSFER)
GENRES = ("comment", "letter", "official document", "poem")
TRANSFER_VERSION = "transfer-v1"
_TRANSFER_USER = """\
Rewrite the text below as a {genre}. Keep its content, but give it the form, tone and conventions \
of a {genre}; do not explain what you did.

<text>
{text}
</text>

Answer with the rewritten text only."""
MAX_CHANGED = 3
_PARA_SPLIT = re.compile(r"\n\s*\n")


def paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines; a text without blank lines is split on line breaks.

    >>> paragraphs("a\\nb")
    ['a', 'b']
    """
    parts = [p.strip() for p in _PARA_SPLIT.split(text.strip()) if p.strip()]
    if len(parts) <= 1:
        parts = [p.strip() for p in text.strip().splitlines() if p.strip()]
    return parts


def perturb(text: str, kind: str, rng: random.Random) -> str:
    """Damage ``text`` by ``kind`` (drop / repeat / shuffle). Raises ValueError when impossible
    (fewer than two paragraphs, since dropping the only paragraph or shuffling one changes nothing
    meaningful)."""
    paras = paragraphs(text)
    if kind not in KINDS:
        raise ValueError(f"unknown perturbation {kind!r}; expected one of {KINDS}")
    if len(paras) < 2:
        raise ValueError("a response needs at least two paragraphs to be perturbed")
    if kind == "drop":
        k = rng.randint(1, min(MAX_CHANGED, len(paras) - 1))
        gone = set(rng.sample(range(len(paras)), k))
        out = [p for i, p in enumerate(paras) if i not in gone]
    elif kind == "repeat":
        k = rng.randint(1, min(MAX_CHANGED, len(paras)))
        out = list(paras)
        for src in rng.sample(range(len(paras)), k):
            choices = [pos for pos in range(len(out) + 1) if pos not in (src, src + 1)] or [len(out)]
            out.insert(rng.choice(choices), paras[src])
    else:
        out = list(paras)
        while out == paras:
            rng.shuffle(out)
    return "\n\n".join(out)


def transfer_messages(text: str, genre: str) -> list[dict[str, str]]:
    """Messages asking an LLM to rewrite ``text`` into ``genre`` (our wording).

    >>> "official document" in transfer_messages("Hi.", "official document")[0]["content"]
    True
    """
    return [{"role": "user", "content": _TRANSFER_USER.format(genre=genre, text=text.strip())}]


def assign_genres(keys: list[Any], genres: tuple[str, ...] | list[str]) -> dict[Any, str]:
    """Genres cycled over responses in sorted key order.

    >>> assign_genres([("2", "m"), ("1", "m")], ["poem", "letter"])
    {('1', 'm'): 'poem', ('2', 'm'): 'letter'}
    """
    if not genres:
        raise ValueError("no genres given")
    return {k: genres[i % len(genres)] for i, k in enumerate(sorted(keys, key=str))}


@dataclass(frozen=True)
class RobustnessRow:
    """Mean score change for one perturbation kind."""

    kind: str
    n: int
    mean_change: float
    ci: tuple[float, float]
    flagged: bool

    def to_dict(self) -> dict:
        return {"kind": self.kind, "n": self.n, "mean_change": self.mean_change, "ci": list(self.ci),
                "flagged": self.flagged}


def score_change(original: Mapping[Any, float], perturbed: Mapping[Any, float], *, kind: str,
                 n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> RobustnessRow:
    """Mean of (perturbed - original) over responses scored both ways, with a percentile bootstrap.

    >>> row = score_change({1: 8.0, 2: 6.0}, {1: 5.0, 2: 4.0}, kind="drop", n_resamples=200)
    >>> row.mean_change, row.flagged
    (-2.5, False)
    """
    keys = sorted((k for k in original if k in perturbed), key=str)
    if not keys:
        return RobustnessRow(kind, 0, float("nan"), (float("nan"), float("nan")), True)
    diff = np.array([perturbed[k] - original[k] for k in keys], dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_resamples, len(diff)))
    means = diff[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = (float(x) for x in np.quantile(means, [alpha, 1 - alpha]))
    return RobustnessRow(kind, len(diff), float(diff.mean()), (lo, hi), flagged=hi >= 0)
