"""Reports of ``metaeval rankings``: the people's and each judge's ranking side by side (Markdown,
LaTeX, HTML, tidy CSV, JSON) and a plotly forest plot.

Table cells read "strength [lo, hi]", "rank [lo-hi]" and the Elo-scale value
(400 / ln 10 * strength + 1000). The CSV is tidy: one row per (group, source, model, statistic).

Example:
    >>> from metaeval.stats.rankings import rankings_study
    >>> v = [{"question_id": q, "model_a": "a", "model_b": "b", "winner": w}
    ...      for q, w in enumerate(["model_a", "model_a", "model_b"])]
    >>> "| a |" in render_rankings(rankings_study(v, {}, n_resamples=20), fmt="markdown")
    True
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

from metaeval import csv_safe
from metaeval.report.figures import write_figure
from metaeval.report.tables import FORMATS, csv_num, html_table, latex_table, md_table, num
from metaeval.stats.rankings import RankingResult

__all__ = ["FORMATS", "render_rankings", "ranking_tables", "write_ranking_figures"]

VS_HEADER = ["Judge", "Models", "Kendall tau-b [95% CI]", "Spearman [95% CI]", "Pair-order agreement [95% CI]"]


def _iv(v, ci, digits: int = 2) -> str:
    return f"{num(v, digits)} [{num(ci[0], digits)}, {num(ci[1], digits)}]"


def _rank(r, ci) -> str:
    lo, hi = ("–" if x is None else str(x) for x in ci)
    return f"{r} [{lo}–{hi}]"


def ranking_tables(rankings: dict, vs_human: dict) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """(header, model rows, human-vs-judge rows) for one set of rankings; models in the people's
    order (then any model only a judge ranks), one block of columns per source."""
    sources = list(rankings)
    models = list(rankings.get("human", {}).get("models", {}))
    for s in sources:
        models += [m for m in rankings[s]["models"] if m not in models]
    header = ["Model"]
    for s in sources:
        header += [f"{s} strength [95% CI]", f"{s} rank [95% CI]", f"{s} Elo", f"{s} n"]
    rows = []
    for m in models:
        row = [m]
        for s in sources:
            d = rankings[s]["models"].get(m)
            if d is None:
                row += ["–", "–", "–", "0"]
            else:
                row += [_iv(d["strength"], d["ci"]), _rank(d["rank"], d["rank_ci"]), f"{d['elo']:.0f}", str(d["n"])]
        rows.append(row)
    vs_rows = [[j, str(v["n_models"]), *(_iv(v[k]["value"], v[k]["ci"]) for k in
                                         ("kendall_tau_b", "spearman", "pair_order_agreement"))]
               for j, v in vs_human.items()]
    return header, rows, vs_rows


def _notes(rankings: dict) -> list[str]:
    out = []
    for s, d in rankings.items():
        if not d["finite_mle"]:
            out.append(f"{s}: no finite MLE ({', '.join(d['no_finite_mle']) or 'win graph not strongly connected'} "
                       f"only won or only lost); fitted with {d['prior_virtual_ties']:g} virtual ties per model.")
        elif d["n_resamples_with_prior"]:
            out.append(f"{s}: {d['n_resamples_with_prior']} bootstrap resamples had no finite MLE and used "
                       f"the virtual-tie prior.")
    return out


def _blocks(data: dict):
    yield "All queries", data["rankings"], data["vs_human"]
    if data.get("by"):
        for g, part in data["by"]["groups"].items():
            yield f"{data['by']['field']} = {g}", part["rankings"], part["vs_human"]


def _settings_line(result: RankingResult) -> str:
    st = result.settings
    line = (f"Bradley–Terry log-strengths (mean 0); Elo = 400/ln 10 x strength + 1000. Bootstrap: "
            f"{st['n_resamples']} resamples of queries, seed {st['seed']}.")
    if st.get("estimator") == "design-based":
        line += (" Estimator: design-based (the people's votes weighted by the extension's design; "
                 "see docs/metaeval_statistics.md).")
    elif st.get("estimator"):
        line += f" Estimator: {st['estimator']}."
    return line


def render_rankings(result: RankingResult, *, fmt: str = "markdown") -> str:
    """Render a ranking result in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
    data = result.to_json_dict()
    if fmt == "csv":
        return _csv(data)
    parts: list[str] = []
    for title, rk, vs in _blocks(data):
        header, rows, vs_rows = ranking_tables(rk, vs)
        notes = _notes(rk)
        if fmt == "markdown":
            parts += [f"## Rankings: {title}", "", md_table(header, rows), ""]
            if vs_rows:
                parts += ["### Judge ranking vs the people's", "", md_table(VS_HEADER, vs_rows), ""]
            parts += [f"- {n}" for n in notes]
        elif fmt == "latex":
            parts.append(latex_table(header, rows, f"Rankings ({title}). {_settings_line(result)} " + " ".join(notes)))
            if vs_rows:
                parts.append(latex_table(VS_HEADER, vs_rows, f"Judge ranking vs the people's ({title})."))
        elif fmt == "html":
            parts += [f"<h2>Rankings: {html.escape(title)}</h2>", html_table(header, rows)]
            if vs_rows:
                parts += ["<h3>Judge ranking vs the people's</h3>", html_table(VS_HEADER, vs_rows)]
            parts += [f"<p>{html.escape(n)}</p>" for n in notes]
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "markdown":
        return "\n".join([*parts, f"- {_settings_line(result)}"]) + "\n"
    if fmt == "latex":
        return "\n\n".join(parts) + "\n"
    return "\n".join(["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Rankings</title>',
                      "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
                      "</head><body>", *parts, f"<p>{html.escape(_settings_line(result))}</p>", "</body></html>"]) + "\n"


def _csv(data: dict) -> str:
    buf = io.StringIO()
    w = csv_safe.writer(buf, lineterminator="\n")
    w.writerow(["group", "source", "model", "statistic", "value", "ci_lo", "ci_hi"])
    for title, rk, vs in _blocks(data):
        group = "" if title == "All queries" else title.split(" = ", 1)[1]
        for s, d in rk.items():
            for m, x in d["models"].items():
                w.writerow([group, s, m, "strength", csv_num(x["strength"]), csv_num(x["ci"][0]), csv_num(x["ci"][1])])
                w.writerow([group, s, m, "rank", x["rank"], _csvint(x["rank_ci"][0]), _csvint(x["rank_ci"][1])])
                w.writerow([group, s, m, "elo", csv_num(x["elo"]), csv_num(x["elo_ci"][0]), csv_num(x["elo_ci"][1])])
                w.writerow([group, s, m, "n", x["n"], "", ""])
        for j, v in vs.items():
            for k in ("kendall_tau_b", "spearman", "pair_order_agreement"):
                w.writerow([group, j, "", k, csv_num(v[k]["value"]), csv_num(v[k]["ci"][0]), csv_num(v[k]["ci"][1])])
    return buf.getvalue()


def _csvint(x) -> str:
    return "" if x is None else str(x)


def write_ranking_figures(result: RankingResult, directory: str | Path, *, plotlyjs: str = "directory") -> list[Path]:
    """A forest plot (strength with 95% interval per model), one panel per source sharing the
    model axis, people first; written as ``rankings.html`` in ``directory``."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    data = result.to_json_dict()
    rk = data["rankings"]
    sources = list(rk)
    _, rows, _ = ranking_tables(rk, data["vs_human"])
    models = [r[0] for r in rows][::-1]  # strongest at the top
    fig = make_subplots(rows=1, cols=len(sources), shared_yaxes=True, subplot_titles=sources)
    for k, s in enumerate(sources, start=1):
        ms = [m for m in models if m in rk[s]["models"]]
        pts = [rk[s]["models"][m] for m in ms]
        fig.add_trace(go.Scatter(
            x=[p["strength"] for p in pts], y=ms, mode="markers", name=s, showlegend=False,
            error_x={"type": "data", "symmetric": False,
                     "array": [_gap(p["ci"][1], p["strength"]) for p in pts],
                     "arrayminus": [_gap(p["strength"], p["ci"][0]) for p in pts]}), row=1, col=k)
        fig.add_vline(x=0.0, line_dash="dot", line_color="#999", row=1, col=k)
    fig.update_yaxes(categoryorder="array", categoryarray=models)
    fig.update_layout(title="Bradley–Terry strength (log scale, mean 0) with 95% bootstrap interval",
                      template="plotly_white", height=max(300, 40 * len(models) + 150))
    return [write_figure(fig, d / "rankings.html", "rankings", plotlyjs=plotlyjs)]


def _gap(a, b) -> float:
    return 0.0 if a is None or b is None else float(a) - float(b)
