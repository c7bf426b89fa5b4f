"""Reports of agreement results: the Table 4 layout (criteria method x judge) as Markdown,
LaTeX (booktabs), HTML, CSV and JSON, and plotly figures as standalone HTML files.

All renderers are deterministic: the same result gives byte-identical text.

Example:
    >>> from metaeval.stats.study import agreement_study
    >>> v = [{"question_id": 1, "model_a": "a", "model_b": "b", "winner": "model_a", "judge": "h"}]
    >>> res = agreement_study(v, {"dyn/j": v}, n_resamples=10)
    >>> "| dyn | j |" in render(res, fmt="markdown")
    True
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

from metaeval import csv_safe
from metaeval.stats.study import AgreementResult

__all__ = ["FORMATS", "PLOTLYJS", "render", "table4_rows", "write_figures", "write_figure", "render_correlation"]

FORMATS = ("json", "markdown", "latex", "csv", "html")
#: How figures get plotly.js: one shared ``plotly.min.js`` beside them (default), a ``<script>``
#: from the plotly CDN (the browser needs the network), or a copy inlined in every file.
PLOTLYJS = ("directory", "cdn", "inline")
HEADER = ["Method", "Judge", "n", "Agreement", "95% CI", "No-tie agreement", "No-tie 95% CI", "n (no ties)",
          "Kappa", "Position consistency", "p (Holm) vs best"]


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _num(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _p(x) -> str:
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def table4_rows(result: AgreementResult) -> list[list[str]]:
    """The Table 4 rows as text cells (percentages with one decimal), then the human ceiling row."""
    best = max((r for r in result.rows if r["agreement"] is not None), key=lambda r: r["agreement"], default=None)
    p_vs_best = {}
    for c in result.comparisons:
        if best is not None and best["judge"] in (c["a"], c["b"]):
            other = c["b"] if c["a"] == best["judge"] else c["a"]
            p_vs_best[other] = c["p_holm"]
    out = []
    for r in result.rows:
        lo, hi = r["ci"]
        out.append([r["method"] or "–", r["judge_model"], str(r["n_votes"]), _pct(r["agreement"]),
                    f"[{_pct(lo)}, {_pct(hi)}]", _pct(r["agreement_no_ties"]), _ci(r.get("ci_no_ties")),
                    str(r["n_votes_no_ties"]), _num(r["kappa"]), _pct(r["position_consistency"]),
                    "best" if best is not None and r["judge"] == best["judge"] else _p(p_vs_best.get(r["judge"]))])
    hm = result.human
    lo, hi = hm["ci"]
    out.append(["human", _human_label(result), str(hm["n_vote_pairs"]), _pct(hm["agreement"]),
                f"[{_pct(lo)}, {_pct(hi)}]", _pct(hm["agreement_no_ties"]), _ci(hm.get("ci_no_ties")),
                "–", "–", "–", "–"])
    return out


def _ci(ci) -> str:
    if not ci:
        return "–"
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]"


def _human_label(result: AgreementResult) -> str:
    return result.human.get("label", "human–human")


def _comparison_rows(result: AgreementResult) -> list[list[str]]:
    return [[c["a"], c["b"], _pct(c["difference"]), f"[{_pct(c['ci'][0])}, {_pct(c['ci'][1])}]", c["test"],
             _p(c["p_value"]), _p(c["p_holm"]), _p(c["p_mcnemar"])] for c in result.comparisons]


COMP_HEADER = ["A", "B", "Difference", "95% CI", "Test", "p", "p (Holm)", "p (McNemar)"]


def _human_lines(result: AgreementResult) -> list[str]:
    h = result.human
    return [f"Human votes: {h['n_votes']} on {h['n_pairs']} pairs ({h['n_queries']} queries, {h['n_annotators']} annotators).",
            f"Each annotator vs majority of the others: {_pct(h['vs_majority_of_others'])}%; "
            f"Krippendorff's alpha nominal {_num(h['alpha']['nominal'])}, ordinal {_num(h['alpha']['ordinal'])}; "
            f"Fleiss' kappa {_num(h['fleiss_kappa'])}.",
            f"Bootstrap: {result.settings['n_resamples']} resamples of queries, seed {result.settings['seed']}; "
            f"split votes -> {result.settings['split']}; p-values from {result.settings['test']}."]


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _latex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("–", "--"), ("<", r"$<$")):
        s = s.replace(a, b)
    return s


def _latex_table(header: list[str], rows: list[list[str]], caption: str) -> str:
    cols = "ll" + "r" * (len(header) - 2)
    out = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
           " & ".join(_latex_escape(h) for h in header) + r" \\", r"\midrule"]
    for k, r in enumerate(rows):
        if header is HEADER and k == len(rows) - 1:
            out.append(r"\midrule")
        out.append(" & ".join(_latex_escape(c) for c in r) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{_latex_escape(caption)}}}", r"\end{table}"]
    return "\n".join(out)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def render(result: AgreementResult, *, fmt: str = "markdown") -> str:
    """Render an agreement result in one of :data:`FORMATS`."""
    rows = table4_rows(result)
    if fmt == "json":
        return json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if fmt == "markdown":
        parts = ["## Agreement with human preferences (%)", "", _md_table(HEADER, rows), "",
                 *(f"- {line}" for line in _human_lines(result))]
        if result.comparisons:
            parts += ["", "## Paired comparisons (percentage points)", "", _md_table(COMP_HEADER, _comparison_rows(result))]
        return "\n".join(parts) + "\n"
    if fmt == "latex":
        text = _latex_table(HEADER, rows, "Agreement with human preferences (%). " + " ".join(_human_lines(result)))
        if result.comparisons:
            text += "\n\n" + _latex_table(COMP_HEADER, _comparison_rows(result), "Paired comparisons (percentage points).")
        return text + "\n"
    if fmt == "html":
        parts = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Agreement</title>',
                 "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
                 "</head><body>", "<h2>Agreement with human preferences (%)</h2>", _html_table(HEADER, rows),
                 "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in _human_lines(result)) + "</ul>"]
        if result.comparisons:
            parts += ["<h2>Paired comparisons (percentage points)</h2>", _html_table(COMP_HEADER, _comparison_rows(result))]
        return "\n".join(parts + ["</body></html>"]) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["row_type", "judge", "method", "judge_model", "n_votes", "agreement", "ci_lo", "ci_hi",
                    "n_votes_no_ties", "agreement_no_ties", "ci_no_ties_lo", "ci_no_ties_hi", "kappa",
                    "position_consistency", "agreement_both_orders", "n_vote_pairs"])
        for r in result.rows:
            nt = r.get("ci_no_ties") or [None, None]
            w.writerow(["judge", r["judge"], r["method"], r["judge_model"], r["n_votes"], _csvnum(r["agreement"]),
                        _csvnum(r["ci"][0]), _csvnum(r["ci"][1]), r["n_votes_no_ties"], _csvnum(r["agreement_no_ties"]),
                        _csvnum(nt[0]), _csvnum(nt[1]), _csvnum(r["kappa"]), _csvnum(r["position_consistency"]),
                        _csvnum(r["agreement_both_orders"]), ""])
        hm = result.human
        nt = hm.get("ci_no_ties") or [None, None]
        # the human ceiling: n_votes = the people's votes, n_vote_pairs = the comparisons behind "agreement"
        w.writerow(["human_ceiling", _human_label(result), "human", _human_label(result), hm["n_votes"],
                    _csvnum(hm["agreement"]), _csvnum(hm["ci"][0]), _csvnum(hm["ci"][1]), "",
                    _csvnum(hm["agreement_no_ties"]), _csvnum(nt[0]), _csvnum(nt[1]), "", "", "", hm["n_vote_pairs"]])
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def _csvnum(x) -> str:
    return "" if x is None else repr(float(x))


def render_correlation(rows: list[dict], *, fmt: str = "markdown") -> str:
    """Render correlation rows (see :func:`metaeval.stats.correlation.correlation_table`)."""
    from metaeval.stats.study import _clean

    if fmt == "json":
        return json.dumps({"rows": _clean(rows)}, indent=2, ensure_ascii=False) + "\n"
    header = ["Judge", "Criterion", "Level", "n", "Constant groups", "Pearson", "Spearman", "Kendall tau-b"]
    body = [[r["judge"], r["criterion"], r["level"], str(r["n"]), str(r["n_constant"]),
             *(f"{_num(_clean(r[m]))} [{_num(_clean(r['ci'][m][0]))}, {_num(_clean(r['ci'][m][1]))}]"
               for m in ("pearson", "spearman", "kendall"))] for r in rows]
    if fmt == "markdown":
        return _md_table(header, body) + "\n"
    if fmt == "latex":
        return _latex_table(header, body, "Correlation between judge and human scores.") + "\n"
    if fmt == "html":
        return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + _html_table(header, body) + "\n</body></html>\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv_safe.writer(buf, lineterminator="\n")
        w.writerow(["judge", "criterion", "level", "n", "n_constant", "pearson", "spearman", "kendall"])
        for r in rows:
            w.writerow([r["judge"], r["criterion"], r["level"], r["n"], r["n_constant"],
                        *(_csvnum(_clean(r[m])) for m in ("pearson", "spearman", "kendall"))])
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}")


def write_figures(result: AgreementResult, directory: str | Path, *, plotlyjs: str = "directory") -> list[Path]:
    """Write plotly HTML figures: agreement with intervals (both with and without ties),
    confusion matrices, and a per-domain heatmap when a domain breakdown exists. Div ids are fixed
    so the files are reproducible. ``plotlyjs`` is one of :data:`PLOTLYJS` (see
    :func:`write_figure`)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    fig = go.Figure()
    for key, ci_key, label in (("agreement", "ci", "with ties"), ("agreement_no_ties", "ci_no_ties", "without ties")):
        rows = [r for r in result.rows if r[key] is not None]
        cis = [r.get(ci_key) or [None, None] for r in rows]
        fig.add_trace(go.Scatter(
            x=[r[key] for r in rows], y=[r["judge"] for r in rows], mode="markers", name=label,
            error_x={"type": "data", "symmetric": False,
                     "array": [(c[1] if c[1] is not None else r[key]) - r[key] for r, c in zip(rows, cis, strict=True)],
                     "arrayminus": [r[key] - (c[0] if c[0] is not None else r[key])
                                    for r, c in zip(rows, cis, strict=True)]}))
    if result.human["agreement"] is not None:
        fig.add_vline(x=result.human["agreement"], line_dash="dash", annotation_text=_human_label(result))
    fig.update_layout(title="Agreement with human votes (95% CI)", xaxis_title="agreement", template="plotly_white")
    written.append(_write(fig, d / "agreement.html", "agreement", plotlyjs))

    names = list(result.confusion)
    if names:
        cm = make_subplots(rows=1, cols=len(names), subplot_titles=names)
        labels = ["A better", "tie", "B better"]
        for k, n in enumerate(names, start=1):
            cm.add_trace(go.Heatmap(z=result.confusion[n], x=labels, y=labels, coloraxis="coloraxis",
                                    text=result.confusion[n], texttemplate="%{text}"), row=1, col=k)
        cm.update_layout(title="Human vote (rows) vs judge verdict (columns)", coloraxis={"colorscale": "Blues"})
        written.append(_write(cm, d / "confusion.html", "confusion", plotlyjs))
    for key in ("domain1", "domain2"):
        if key in result.breakdowns and not result.breakdowns[key].empty:
            b = result.breakdowns[key].pivot(index="column", columns="group", values="agreement")
            hm = go.Figure(go.Heatmap(z=b.to_numpy(), x=list(b.columns), y=list(b.index), colorscale="Viridis"))
            hm.update_layout(title=f"Agreement by {key}")
            written.append(_write(hm, d / f"heatmap_{key}.html", f"heatmap_{key}", plotlyjs))
    return written


def _write(fig, path: Path, div_id: str, plotlyjs: str) -> Path:
    return write_figure(fig, path, div_id, plotlyjs=plotlyjs)


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
