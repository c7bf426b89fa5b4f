"""Report of ``metaeval correlation``: judge-vs-human score correlations at each level.

Example:
    >>> row = {"judge": "j", "criterion": "overall", "level": "item", "n": 3, "n_constant": 0,
    ...        "pearson": 0.5, "spearman": 0.5, "kendall": 1 / 3,
    ...        "ci": {m: [0.1, 0.9] for m in ("pearson", "spearman", "kendall")}}
    >>> "0.500 [0.100, 0.900]" in render_correlation([row])
    True
"""

from __future__ import annotations

import io
import json

from metaeval import csv_safe
from metaeval.report.tables import FORMATS, csv_num, html_table, latex_table, md_table, num
from metaeval.stats.jsonable import json_ready

__all__ = ["FORMATS", "render_correlation"]


def render_correlation(rows: list[dict], *, fmt: str = "markdown") -> str:
    """Render correlation rows (see :func:`metaeval.stats.correlation.correlation_table`)."""
    if fmt == "json":
        return json.dumps({"rows": json_ready(rows)}, indent=2, ensure_ascii=False) + "\n"
    header = ["Judge", "Criterion", "Level", "n", "Constant groups", "Pearson", "Spearman", "Kendall tau-b"]
    body = [[r["judge"], r["criterion"], r["level"], str(r["n"]), str(r["n_constant"]),
             *(f"{num(json_ready(r[m]))} [{num(json_ready(r['ci'][m][0]))}, {num(json_ready(r['ci'][m][1]))}]"
               for m in ("pearson", "spearman", "kendall"))] for r in rows]
    if fmt == "markdown":
        return md_table(header, body) + "\n"
    if fmt == "latex":
        return latex_table(header, body, "Correlation between judge and human scores.") + "\n"
    if fmt == "html":
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + html_table(header, body) + "\n</body></html>\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["judge", "criterion", "level", "n", "n_constant", "pearson", "spearman", "kendall"])
        for r in rows:
            w.writerow([r["judge"], r["criterion"], r["level"], r["n"], r["n_constant"],
                        *(csv_num(json_ready(r[m])) for m in ("pearson", "spearman", "kendall"))])
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}")
