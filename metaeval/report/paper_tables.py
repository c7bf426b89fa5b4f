"""Paper tables beside the long agreement report: Table 4's pivot, breakdowns and bias in every format.

- :func:`render_pivot`: WritingBench's Table 4 layout -- rows = criteria methods, columns = judges,
  each cell the agreement with its interval (%), the best method of each judge column marked (bold
  in markdown/LaTeX/HTML, ``best`` = 1 in CSV). A row named without ``METHOD/`` goes under method "–".
- :func:`add_sections`: the ``--breakdown`` groups and the position/length bias of every row added to
  a long report in markdown, LaTeX, HTML or CSV (CSV: ``position_bias``/``length_bias`` columns and
  one ``breakdown`` row per (field, group, row)); JSON already carries both.

Example:
    >>> from types import SimpleNamespace
    >>> res = SimpleNamespace(rows=[
    ...     {"judge": "dynamic/g", "method": "dynamic", "judge_model": "g", "agreement": 0.8, "ci": [0.7, 0.9],
    ...      "n_votes": 10},
    ...     {"judge": "static-global/g", "method": "static-global", "judge_model": "g", "agreement": 0.6,
    ...      "ci": [0.5, 0.7], "n_votes": 10}], breakdowns={}, human={})
    >>> print(render_pivot(res, fmt="markdown").splitlines()[4:6])
    ['| dynamic | **80.0 [70.0, 90.0]** |', '| static-global | 60.0 [50.0, 70.0] |']
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from metaeval import csv_safe

PIVOT_TITLE = "Agreement with human preferences by criteria method and judge (%)"


def _pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _latex(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}")):
        s = s.replace(a, b) if a != "\\" else s.replace(a, "\0")
    return s.replace("\0", r"\textbackslash{}")


def pivot(result: Any) -> tuple[list[str], list[str], dict[tuple[str, str], dict]]:
    """(methods, judges, cells) of Table 4's layout; a cell holds agreement, ci, n_votes and best."""
    methods: list[str] = []
    judges: list[str] = []
    cells: dict[tuple[str, str], dict] = {}
    for r in result.rows:
        method = r.get("method") or "–"
        judge = r.get("judge_model") or r["judge"]
        if method not in methods:
            methods.append(method)
        if judge not in judges:
            judges.append(judge)
        cells[(method, judge)] = {"agreement": r["agreement"], "ci": r["ci"], "n_votes": r["n_votes"], "best": False}
    for judge in judges:
        values = [c["agreement"] for (m, j), c in cells.items() if j == judge and c["agreement"] is not None]
        top = max(values, default=None)
        for (_m, j), c in cells.items():
            if j == judge and top is not None and c["agreement"] == top:
                c["best"] = True
    return methods, judges, cells


def _cell(c: dict | None) -> str:
    if c is None:
        return "–"
    lo, hi = c["ci"] if c["ci"] else (None, None)
    return f"{_pct(c['agreement'])} [{_pct(lo)}, {_pct(hi)}]"


def render_pivot(result: Any, *, fmt: str = "markdown") -> str:
    """Table 4's pivot in ``markdown``, ``latex``, ``html``, ``csv`` or ``json``."""
    methods, judges, cells = pivot(result)
    if fmt == "json":
        return json.dumps({"methods": methods, "judges": judges,
                           "cells": [{"method": m, "judge": j, **c} for (m, j), c in cells.items()]},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["method", "judge", "n_votes", "agreement", "ci_lo", "ci_hi", "best"])
        for (m, j), c in cells.items():
            lo, hi = c["ci"] or (None, None)
            w.writerow([m, j, c["n_votes"], *("" if x is None else repr(float(x)) for x in (c["agreement"], lo, hi)),
                        int(c["best"])])
        return buf.getvalue()
    rows = [[m, *(_cell(cells.get((m, j))) for j in judges)] for m in methods]
    best = [[bool(cells.get((m, j), {}).get("best")) for j in judges] for m in methods]
    note = "Cells: agreement [95% CI]; the best method of each judge is in bold."
    if fmt == "markdown":
        lines = [f"## {PIVOT_TITLE}", "", "| Method | " + " | ".join(judges) + " |",
                 "|---|" + "---|" * len(judges)]
        for row, marks in zip(rows, best, strict=True):
            lines.append("| " + " | ".join([row[0], *(f"**{c}**" if b else c for c, b in zip(row[1:], marks,
                                                                                           strict=True))]) + " |")
        return "\n".join([*lines, "", note]) + "\n"
    if fmt == "latex":
        out = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "c" * len(judges) + "}", r"\toprule",
               " & ".join(["Method", *(_latex(j) for j in judges)]) + r" \\", r"\midrule"]
        for row, marks in zip(rows, best, strict=True):
            out.append(" & ".join([_latex(row[0]), *(rf"\textbf{{{_latex(c)}}}" if b else _latex(c)
                                                     for c, b in zip(row[1:], marks, strict=True))]) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex(PIVOT_TITLE + '. ' + note)}}}", r"\end{table}"]
        return "\n".join(out) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in ["Method", *judges])
        body = "".join("<tr>" + f"<td>{html.escape(row[0])}</td>" + "".join(
            f"<td><b>{html.escape(c)}</b></td>" if b else f"<td>{html.escape(c)}</td>"
            for c, b in zip(row[1:], marks, strict=True)) + "</tr>" for row, marks in zip(rows, best, strict=True))
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Table 4</title>"
                "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>"
                f"</head><body>\n<h2>{html.escape(PIVOT_TITLE)}</h2>\n<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>\n<p>{html.escape(note)}</p>\n</body></html>\n")
    raise ValueError(f"unknown format {fmt!r}")


def _bias_rows(result: Any) -> list[list[str]]:
    out = [[r["judge"], _pct(r.get("position_bias")), _pct(r.get("length_bias")),
            _pct(r.get("position_consistency"))] for r in result.rows]
    hm = result.human or {}
    out.append(["human", _pct(hm.get("position_bias")), _pct(hm.get("length_bias")), "–"])
    return out


BIAS_HEADER = ["Row", "Position bias (% first shown)", "Length bias (% longer)", "Position consistency"]
BREAKDOWN_HEADER = ["Field", "Group", "Row", "n", "Agreement", "95% CI"]


def _breakdown_rows(result: Any) -> list[list[str]]:
    out = []
    for fld, frame in (result.breakdowns or {}).items():
        records = frame.to_dict(orient="records") if hasattr(frame, "to_dict") else list(frame)
        for rec in records:
            out.append([fld, str(rec["group"]), str(rec["column"]), str(rec["n"]), _pct(rec["agreement"]),
                        f"[{_pct(rec.get('lo'))}, {_pct(rec.get('hi'))}]"])
    return out


def add_sections(text: str, result: Any, *, fmt: str) -> str:
    """``text`` (a long agreement report) with the bias table and the breakdowns added."""
    bias, bds = _bias_rows(result), _breakdown_rows(result)
    if fmt == "markdown":
        def table(header: list[str], rows: list[list[str]]) -> str:
            return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                              *("| " + " | ".join(r) + " |" for r in rows)])
        parts = [text.rstrip("\n"), "", "## Bias", "", table(BIAS_HEADER, bias)]
        if bds:
            parts += ["", "## Breakdowns (agreement, %)", "", table(BREAKDOWN_HEADER, bds)]
        return "\n".join(parts) + "\n"
    if fmt == "latex":
        def ltable(header: list[str], rows: list[list[str]], caption: str) -> str:
            return "\n".join([r"\begin{table}[t]", r"\centering", r"\begin{tabular}{" + "l" * len(header) + "}",
                              r"\toprule", " & ".join(_latex(h) for h in header) + r" \\", r"\midrule",
                              *(" & ".join(_latex(c) for c in r) + r" \\" for r in rows), r"\bottomrule",
                              r"\end{tabular}", rf"\caption{{{_latex(caption)}}}", r"\end{table}"])
        out = text.rstrip("\n") + "\n\n" + ltable(BIAS_HEADER, bias, "Bias: position and length (%).")
        if bds:
            out += "\n\n" + ltable(BREAKDOWN_HEADER, bds, "Breakdowns: agreement by group (%).")
        return out + "\n"
    if fmt == "html":
        def htable(header: list[str], rows: list[list[str]]) -> str:
            return ("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>"
                    + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
                    + "</tbody></table>")
        extra = "<h2>Bias</h2>" + htable(BIAS_HEADER, bias)
        if bds:
            extra += "<h2>Breakdowns (agreement, %)</h2>" + htable(BREAKDOWN_HEADER, bds)
        return text.replace("</body></html>", extra + "\n</body></html>", 1)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], rows[1:]
        by_judge = {r["judge"]: r for r in result.rows}
        hm = result.human or {}
        w_buf = io.StringIO()
        w = csv_safe.writer(w_buf, lineterminator="\n")
        w.writerow([*header, "position_bias", "length_bias", "breakdown_field", "breakdown_group"])

        def num(x: Any) -> str:
            return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))

        for r in body:
            src = by_judge.get(r[1]) if r[0] == "judge" else hm
            w.writerow([*r, num((src or {}).get("position_bias")), num((src or {}).get("length_bias")), "", ""])
        col = {name: i for i, name in enumerate(header)}
        for fld, frame in (result.breakdowns or {}).items():
            records = frame.to_dict(orient="records") if hasattr(frame, "to_dict") else list(frame)
            for rec in records:
                row = [""] * len(header)
                row[col["row_type"]] = "breakdown"
                row[col["judge"]] = str(rec["column"])
                row[col["n_votes"]] = str(rec["n"])
                row[col["agreement"]], row[col["ci_lo"]], row[col["ci_hi"]] = (num(rec["agreement"]), num(rec.get("lo")),
                                                                              num(rec.get("hi")))
                w.writerow([*row, "", "", fld, str(rec["group"])])
        return w_buf.getvalue()
    return text


CORRELATION_TITLE = "Correlation between judge and human scores"
_METRICS = ("pearson", "spearman", "kendall")


def render_correlation_report(rows: list[dict], settings: dict, *, fmt: str = "markdown",
                              warnings: Sequence[str] = (), human: dict | None = None) -> str:
    """The correlation report laid out like the agreement report: a title, the table with intervals,
    the settings (a caption line; ``settings`` in JSON) and, in CSV, each interval's bounds.

    Example:
        >>> row = {"judge": "j", "criterion": "overall", "level": "item", "n": 4, "n_constant": 0,
        ...        "pearson": 0.5, "spearman": 0.4, "kendall": 0.3,
        ...        "ci": {"pearson": [0.1, 0.9], "spearman": [0.0, 0.8], "kendall": [0.0, 0.6]}}
        >>> print(render_correlation_report([row], {"n_resamples": 10, "seed": 0, "level": 0.95},
        ...                                 fmt="csv").splitlines()[1])
        j,overall,item,4,0,0.5,0.1,0.9,0.4,0.0,0.8,0.3,0.0,0.6
    """
    def num(x: Any) -> str:
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))

    def txt(x: Any) -> str:
        return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"

    note = (f"Bootstrap: {settings.get('n_resamples')} resamples of items, seed {settings.get('seed')}; "
            f"{100 * float(settings.get('level', 0.95)):.0f}% intervals; Kendall = tau-b.")
    if human and human.get("n_rater_pairs"):
        note += (f" People with each other (the ceiling): Cohen's kappa {txt(human['cohen_kappa'])}, Pearson "
                 f"{txt(human['pearson'])} (mean over {human['n_rater_pairs']} pairs of {human['n_raters']} raters).")
        if human.get("ci"):
            ci = human["ci"]
            note += (f" Intervals: kappa [{txt(ci['cohen_kappa'][0])}, {txt(ci['cohen_kappa'][1])}], Pearson "
                     f"[{txt(ci['pearson'][0])}, {txt(ci['pearson'][1])}]; quadratic-weighted kappa "
                     f"{txt(human.get('cohen_kappa_quadratic'))} [{txt(ci['cohen_kappa_quadratic'][0])}, "
                     f"{txt(ci['cohen_kappa_quadratic'][1])}].")
    if fmt == "json":
        def clean(x: Any) -> Any:
            if isinstance(x, float) and math.isnan(x):
                return None
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            return x

        return json.dumps({"title": CORRELATION_TITLE, "rows": clean(rows), "settings": settings,
                           "human": clean(human or {}), "warnings": list(warnings)}, indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["judge", "criterion", "level", "n", "n_constant",
                    *(c for m in _METRICS for c in (m, f"{m}_ci_lo", f"{m}_ci_hi"))])
        for r in rows:
            ci = r.get("ci") or {}
            w.writerow([r["judge"], r["criterion"], r["level"], r["n"], r.get("n_constant", ""),
                        *(v for m in _METRICS for v in (num(r[m]), *(num(b) for b in (ci.get(m) or (None, None)))))])
        return buf.getvalue()
    header = ["Judge", "Criterion", "Level", "n", "Constant groups", "Pearson", "Spearman", "Kendall tau-b"]
    body = [[str(r["judge"]), str(r["criterion"]), str(r["level"]), str(r["n"]), str(r.get("n_constant", "")),
             *(f"{txt(r[m])} [{txt((r.get('ci') or {}).get(m, (None, None))[0])}, "
               f"{txt((r.get('ci') or {}).get(m, (None, None))[1])}]" for m in _METRICS)] for r in rows]
    if fmt == "markdown":
        return "\n".join([f"## {CORRELATION_TITLE}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                          *("| " + " | ".join(r) + " |" for r in body), "", f"- {note}",
                          *(f"- Warning: {w}" for w in warnings)]) + "\n"
    if fmt == "latex":
        return "\n".join([r"\begin{table}[t]", r"\centering", r"\begin{tabular}{lllrr" + "c" * 3 + "}", r"\toprule",
                          " & ".join(_latex(h) for h in header) + r" \\", r"\midrule",
                          *(" & ".join(_latex(c) for c in r) + r" \\" for r in body), r"\bottomrule",
                          r"\end{tabular}",
                          rf"\caption{{{_latex(' '.join([CORRELATION_TITLE + '. ' + note, *warnings]))}}}",
                          r"\end{table}"]) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        rows_html = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Correlation</title>"
                "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>"
                f"</head><body>\n<h2>{html.escape(CORRELATION_TITLE)}</h2>\n<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows_html}</tbody></table>\n<ul>"
                + "".join(f"<li>{html.escape(x)}</li>" for x in [note, *(f"Warning: {w}" for w in warnings)])
                + "</ul>\n</body></html>\n")
    raise ValueError(f"unknown format {fmt!r}")


MAX_COLUMNS = 10
RANKINGS_NOTE = "Elo and n per source: --table full, or --format csv|json."


def _ranking_blocks(data: dict) -> list[tuple[str, dict, dict]]:
    out = [("All queries", data["rankings"], data["vs_human"])]
    if data.get("by"):
        out += [(f"{data['by']['field']} = {g}", part["rankings"], part["vs_human"])
                for g, part in data["by"]["groups"].items()]
    return out


def compact_ranking_tables(rankings: dict, vs_human: dict) -> list[tuple[list[str], list[list[str]]]]:
    """The model tables of one set of rankings, at most :data:`MAX_COLUMNS` columns each: the model,
    then one column per source holding ``strength [CI]; rank [CI]`` (more sources: more tables)."""
    from metaeval.report.rankings import ranking_tables

    header, rows, _vs = ranking_tables(rankings, vs_human)
    sources = list(rankings)
    tables = []
    per = MAX_COLUMNS - 1
    for start in range(0, len(sources), per):
        chunk = range(start, min(start + per, len(sources)))
        head = ["Model", *(f"{sources[k]}: strength [95% CI]; rank" for k in chunk)]
        body = [[row[0], *(f"{row[1 + 4 * k]}; {row[2 + 4 * k]}" for k in chunk)] for row in rows]
        tables.append((head, body))
    return tables


def render_rankings_compact(result: Any, *, fmt: str = "markdown") -> str:
    """The rankings report with tables of at most :data:`MAX_COLUMNS` columns (markdown, LaTeX, HTML)."""
    from metaeval.report.rankings import VS_HEADER, ranking_tables

    data = result.to_json_dict()
    st = result.settings
    settings = (f"Bradley–Terry log-strengths (mean 0). Bootstrap: {st['n_resamples']} resamples of queries, "
                f"seed {st['seed']}. {RANKINGS_NOTE}")
    parts: list[str] = []
    for title, rk, vs in _ranking_blocks(data):
        vs_rows = ranking_tables(rk, vs)[2]
        tables = compact_ranking_tables(rk, vs)
        if fmt == "markdown":
            parts.append(f"## Rankings: {title}")
            for head, body in tables:
                parts += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                          *("| " + " | ".join(r) + " |" for r in body)]
            if vs_rows:
                parts += ["", "### Judge ranking vs the people's", "", "| " + " | ".join(VS_HEADER) + " |",
                          "|" + "---|" * len(VS_HEADER), *("| " + " | ".join(r) + " |" for r in vs_rows)]
            parts.append("")
        elif fmt == "latex":
            for head, body in [*tables, *([(VS_HEADER, vs_rows)] if vs_rows else [])]:
                parts.append("\n".join([r"\begin{table}[t]", r"\centering", r"\small",
                                        r"\begin{tabular}{l" + "c" * (len(head) - 1) + "}", r"\toprule",
                                        " & ".join(_latex(h) for h in head) + r" \\", r"\midrule",
                                        *(" & ".join(_latex(c) for c in r) + r" \\" for r in body), r"\bottomrule",
                                        r"\end{tabular}", rf"\caption{{{_latex(f'Rankings ({title}). {settings}')}}}",
                                        r"\end{table}"]))
        elif fmt == "html":
            parts.append(f"<h2>Rankings: {html.escape(title)}</h2>")
            for head, body in [*tables, *([(VS_HEADER, vs_rows)] if vs_rows else [])]:
                parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                             + "</tr></thead><tbody>" + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r)
                                                              + "</tr>" for r in body) + "</tbody></table>")
        else:
            raise ValueError(f"unknown format {fmt!r}")
    if fmt == "markdown":
        return "\n".join([*parts, f"- {settings}"]) + "\n"
    if fmt == "latex":
        return "\n\n".join(parts) + "\n"
    return "\n".join(["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Rankings</title>',
                      "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
                      "</head><body>", *parts, f"<p>{html.escape(settings)}</p>", "</body></html>"]) + "\n"


def degenerate_correlation_warnings(human: Any, levels: Sequence[str]) -> list[str]:
    """Plain warnings where a correlation level cannot say much on these ratings.

    Item level with at most two systems per item gives +1 or -1 for every item; system level with
    three or fewer systems has too few points for a useful interval.

    Example:
        >>> import pandas as pd
        >>> h = pd.DataFrame({"item_id": [1, 1, 2, 2], "system": ["a", "b", "a", "b"]})
        >>> degenerate_correlation_warnings(h, ["item", "system"])[0].startswith("item level: at most 2 systems")
        True
    """
    out = []
    per_item = human.groupby("item_id")["system"].nunique()
    n_systems = human["system"].nunique()
    if "item" in levels and len(per_item) and int(per_item.max()) <= 2:
        out.append(f"item level: at most {int(per_item.max())} systems per item, so each item's correlation is "
                   "+1, -1 or undefined; read the system or global level instead")
    if "system" in levels and n_systems <= 3:
        out.append(f"system level: only {n_systems} systems; a correlation over so few points (and its "
                   "interval) says little")
    return out
