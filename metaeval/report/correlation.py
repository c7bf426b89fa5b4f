"""Report of ``metaeval correlation``: judge-vs-human score correlations at each level.

Example:
    >>> row = {"judge": "j", "criterion": "overall", "level": "item", "n": 3, "n_constant": 0,
    ...        "pearson": 0.5, "spearman": 0.5, "kendall": 1 / 3,
    ...        "ci": {m: [0.1, 0.9] for m in ("pearson", "spearman", "kendall")}}
    >>> "0.500 [0.100, 0.900]" in render_correlation([row])
    True
"""

from __future__ import annotations

import html
import io
import json

from metaeval import csv_safe
from metaeval.report.tables import FORMATS, csv_num, html_table, latex_table, md_table, num, p_text
from metaeval.stats.jsonable import json_ready

__all__ = ["FORMATS", "render_correlation", "comparison_table", "breakdown_table", "pointwise_sections"]


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


def _interval(ci: object) -> str:
    lo, hi = (list(ci) if isinstance(ci, (list, tuple)) and len(ci) == 2 else [None, None])
    return f"[{num(json_ready(lo))}, {num(json_ready(hi))}]"


def comparison_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and body of the paired comparisons (see
    :func:`metaeval.stats.correlation.paired_correlation_tests`).

    Example:
        >>> row = {"criterion": "overall", "level": "system", "method": "pearson", "a": "x", "b": "y",
        ...        "a_value": 0.9, "b_value": 0.5, "difference": 0.4, "ci": [0.1, 0.7], "p_value": 0.01,
        ...        "p_holm": 0.02, "n_items": 30}
        >>> comparison_table([row])[1][0][5:]
        ['0.400 [0.100, 0.700]', '0.010', '0.020', '30']
    """
    header = ["Criterion", "Level", "A", "B", "A - B on", "Difference [CI]", "p", "p (Holm)", "Items"]
    body = [[str(r["criterion"]), str(r["level"]), str(r["a"]), str(r["b"]), str(r["method"]),
             f"{num(r['difference'])} {_interval(r['ci'])}", p_text(r["p_value"]), p_text(r["p_holm"]),
             str(r["n_items"])] for r in rows]
    return header, body


def breakdown_table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and body of a per-group correlation table (see
    :func:`metaeval.stats.correlation.correlation_breakdown`).

    Example:
        >>> row = {"by": "lang", "group": "en", "judge": "j", "criterion": "overall", "level": "item", "n": 3,
        ...        "n_constant": 0, "pearson": 0.5, "spearman": 0.5, "kendall": 0.25,
        ...        "ci": {m: [0.1, 0.9] for m in ("pearson", "spearman", "kendall")}}
        >>> breakdown_table([row])[1][0][:2], breakdown_table([row])[1][0][6]
        (['lang', 'en'], '0.500 [0.100, 0.900]')
    """
    header = ["By", "Group", "Judge", "Criterion", "Level", "n", "Pearson", "Spearman", "Kendall tau-b"]
    body = [[str(r["by"]), str(r["group"]), str(r["judge"]), str(r["criterion"]), str(r["level"]), str(r["n"]),
             *(f"{num(json_ready(r[m]))} {_interval((r.get('ci') or {}).get(m))}"
               for m in ("pearson", "spearman", "kendall"))] for r in rows]
    return header, body


def pointwise_sections(comparisons: list[dict], breakdowns: list[dict], *, fmt: str) -> str:
    """The sections that follow the correlation table in Markdown, LaTeX and HTML: paired
    comparisons (Holm) and per-group breakdowns; empty when there is neither (and for CSV and
    JSON, whose callers carry these rows themselves)."""
    parts: list[str] = []
    for title, rows, make in (("Paired comparisons of judges (bootstrap over items, Holm within each "
                               "criterion and level)", comparisons, comparison_table),
                              ("Correlation by group of items", breakdowns, breakdown_table)):
        if not rows:
            continue
        header, body = make(rows)
        if fmt == "markdown":
            parts.append(f"### {title}\n\n{md_table(header, body)}\n")
        elif fmt == "latex":
            parts.append(latex_table(header, body, title + ".") + "\n")
        elif fmt == "html":
            parts.append(f"<h3>{html.escape(title)}</h3>\n{html_table(header, body)}\n")
    return "\n".join(parts)
