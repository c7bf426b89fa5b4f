"""How many queries a study needs to detect a given agreement difference between two judges."""

from __future__ import annotations

import math

from scipy.stats import norm

__all__ = ["queries_needed", "queries_needed_mcnemar"]


def queries_needed(difference: float, *, sd_per_query: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Queries needed for a two-sided paired test (normal approximation) on per-query differences.

    n = ((z_{1-alpha/2} + z_{power}) * sd / difference)^2, rounded up, where ``sd_per_query`` is the
    standard deviation of the per-query agreement difference (estimate it from a pilot study).

    Example (by hand): difference 0.05, sd 0.3: (1.95996 + 0.84162)^2 * 36 = 7.8489 * 36 = 282.6 -> 283.

    >>> queries_needed(0.05, sd_per_query=0.3)
    283
    """
    if difference == 0:
        raise ValueError("difference must be non-zero")
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return int(math.ceil((z * sd_per_query / abs(difference)) ** 2))


def queries_needed_mcnemar(difference: float, *, discordant: float, alpha: float = 0.05, power: float = 0.8,
                           votes_per_query: float = 1.0) -> int:
    """Queries for McNemar's test (Connor 1987) given the share of discordant votes.

    Votes n = (z_a sqrt(pd) + z_b sqrt(pd - d^2))^2 / d^2, with pd the share of votes where exactly
    one judge is right and d the agreement difference; queries = n / votes_per_query, rounded up.

    Example (by hand): d = 0.1, pd = 0.3: (1.95996*0.54772 + 0.84162*0.53852)^2 / 0.01
    = (1.07351 + 0.45324)^2 / 0.01 = 233.1 -> 234 votes.

    >>> queries_needed_mcnemar(0.1, discordant=0.3)
    234
    """
    d = abs(difference)
    if d == 0 or discordant <= d**2:
        raise ValueError("need 0 < difference and discordant > difference**2")
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    n = (za * math.sqrt(discordant) + zb * math.sqrt(discordant - d**2)) ** 2 / d**2
    return int(math.ceil(n / votes_per_query))
