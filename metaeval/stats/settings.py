"""One set of bootstrap settings per statistic, shared by the command line and every app page, so
that one statistic gives one number wherever it is shown.

Example:
    >>> COMPETENCE.describe()
    '1000 bootstrap resamples of queries, seed 0, 95% intervals'
    >>> COMPETENCE.kwargs()
    {'n_resamples': 1000, 'seed': 0, 'level': 0.95}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["BootstrapSettings", "AGREEMENT", "COMPETENCE", "RANKINGS"]


@dataclass(frozen=True)
class BootstrapSettings:
    """Resamples, seed and interval level of one statistic's bootstrap."""

    n_resamples: int = 1000
    seed: int = 0
    level: float = 0.95

    def kwargs(self) -> dict:
        """Keyword arguments for the statistics functions (``n_resamples``, ``seed``, ``level``)."""
        return asdict(self)

    def describe(self) -> str:
        """The settings in words, to show beside the statistic."""
        return (f"{self.n_resamples} bootstrap resamples of queries, seed {self.seed}, "
                f"{100 * self.level:g}% intervals")


#: Table 4 (``metaeval agreement``, the Agreement page).
AGREEMENT = BootstrapSettings()
#: Annotator competence (``metaeval annotators``, the Agreement page's Annotators tab, the dashboard).
COMPETENCE = BootstrapSettings()
#: Bradley–Terry rankings (``metaeval rankings``, the Rankings tab).
RANKINGS = BootstrapSettings()
