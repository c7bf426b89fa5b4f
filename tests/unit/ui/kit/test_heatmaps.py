"""Agreement heatmaps show the share and the n behind it in every cell."""

from __future__ import annotations

import numpy as np

from annotate.ui.kit.heatmaps import agreement_heatmap, heatmap_cells
from metaeval.stats.breakdown import breakdown


def _frame():
    # judge j1: en matches 3 of 4 votes, zh 1 of 2; judge j2 has no valid vote on zh (n=0)
    match = np.array([[1, 1], [1, 0], [1, 1], [0, 1], [1, 0], [0, 0]])
    valid = np.array([[1, 1], [1, 1], [1, 1], [1, 1], [1, 0], [1, 0]])
    return breakdown(match, valid, np.arange(6), ["en"] * 4 + ["zh"] * 2, columns=["j1", "j2"], n_resamples=20)


def test_cells_show_share_and_n() -> None:
    values, texts = heatmap_cells(_frame())
    # by hand: j1 en 3/4 = 75%, zh 1/2 = 50%; j2 en 3/4 = 75%, zh no valid vote
    assert texts.loc["j1"].tolist() == ["75%<br>n=4", "50%<br>n=2"]
    assert texts.loc["j2"].tolist() == ["75%<br>n=4", "n=0"]
    assert values.loc["j1", "en"] == 0.75


def test_the_figure_carries_the_cell_texts() -> None:
    fig = agreement_heatmap(_frame(), title="Agreement by language", x_label="Language")
    trace = fig.data[0]
    assert trace.texttemplate == "%{text}"
    assert [list(row) for row in trace.text] == [["75%<br>n=4", "50%<br>n=2"], ["75%<br>n=4", "n=0"]]
    assert agreement_heatmap(_frame().iloc[0:0], title="empty") is None
