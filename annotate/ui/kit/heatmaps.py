"""Agreement heatmaps whose cells show the share *and* the number of votes behind it.

A percentage alone hides whether it rests on 3 votes or 300; every cell reads e.g.
``81%`` over ``n=16``. Input: a breakdown frame with ``group``, ``column``, ``n`` and
``agreement`` (:func:`metaeval.stats.breakdown.breakdown`).
"""

from __future__ import annotations

import math

import pandas as pd


def cell_text(agreement: float | None, n: int | None) -> str:
    """The text of one heatmap cell: the share in whole percent above its count.

    Example:
        >>> cell_text(13 / 16, 16)
        '81%<br>n=16'
        >>> cell_text(float("nan"), 0)
        'n=0'
        >>> cell_text(None, None)
        ''
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    if agreement is None or (isinstance(agreement, float) and math.isnan(agreement)):
        return f"n={int(n)}"
    return f"{agreement:.0%}<br>n={int(n)}"


def heatmap_cells(breakdown: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Judge rows x group columns: the agreement values and the matching cell texts.

    Example:
        >>> frame = pd.DataFrame({"group": ["en", "zh"], "column": ["j", "j"], "n": [4, 10],
        ...                       "agreement": [0.75, 0.5]})
        >>> values, texts = heatmap_cells(frame)
        >>> values.loc["j", "zh"], texts.loc["j", "en"]
        (np.float64(0.5), '75%<br>n=4')
    """
    if breakdown.empty:
        return pd.DataFrame(), pd.DataFrame()
    values = breakdown.pivot(index="column", columns="group", values="agreement")
    counts = breakdown.pivot(index="column", columns="group", values="n").reindex_like(values)
    texts = pd.DataFrame([[cell_text(a, None if pd.isna(c) else int(c)) for a, c in zip(vr, cr, strict=True)]
                          for vr, cr in zip(values.to_numpy(), counts.to_numpy(), strict=True)],
                         index=values.index, columns=values.columns)
    return values, texts


def agreement_heatmap(breakdown: pd.DataFrame, *, title: str, x_label: str = "group",
                      y_label: str = "method/judge"):  # noqa: ANN201 - a plotly Figure
    """A 0-100% heatmap of ``breakdown`` with share and n in every cell (``None`` when empty)."""
    import plotly.express as px  # only when there is a chart to draw

    values, texts = heatmap_cells(breakdown)
    if values.empty:
        return None
    fig = px.imshow(values, aspect="auto", color_continuous_scale="Viridis", zmin=0, zmax=1, title=title,
                    labels={"x": x_label, "y": y_label, "color": "agreement"})
    fig.update_traces(text=texts.to_numpy(), texttemplate="%{text}",
                      hovertemplate=f"{y_label}: %{{y}}<br>{x_label}: %{{x}}<br>%{{text}}<extra></extra>")
    fig.update_coloraxes(colorbar_tickformat=".0%")
    return fig
