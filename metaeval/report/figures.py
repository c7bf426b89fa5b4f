"""Writing plotly figures as HTML pages, with a choice of how the page gets plotly.js."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PLOTLYJS", "write_figure"]

#: How figures get plotly.js: one shared ``plotly.min.js`` beside them (default), a ``<script>``
#: from the plotly CDN (the browser needs the network), or a copy inlined in every file.
PLOTLYJS = ("directory", "cdn", "inline")


def write_figure(fig, path: str | Path, div_id: str, *, plotlyjs: str = "directory") -> Path:
    """Write one plotly figure as a full HTML page.

    ``plotlyjs``: ``"directory"`` (default) loads ``plotly.min.js`` from the same folder and writes
    that one shared copy there once (about 4.8 MB, no network needed); ``"cdn"`` loads it from the
    plotly CDN (small files, but the browser must reach the internet); ``"inline"`` embeds a copy
    in every file (standalone, one file per figure).
    """
    if plotlyjs not in PLOTLYJS:
        raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS)}, not {plotlyjs!r}")
    p = Path(path)
    mode = {"directory": "directory", "cdn": "cdn", "inline": True}[plotlyjs]
    fig.write_html(str(p), include_plotlyjs=mode, full_html=True, div_id=div_id)
    return p
