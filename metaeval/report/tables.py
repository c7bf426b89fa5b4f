"""Table and number helpers shared by every report: cells as text (percentages, numbers,
p-values), and one table in Markdown, LaTeX (booktabs) or HTML.

Example:
    >>> print(md_table(["A", "B"], [[pct(0.5), num(None)]]))
    | A | B |
    |---|---|
    | 50.0 | – |
"""

from __future__ import annotations

import html

__all__ = ["FORMATS", "pct", "num", "p_text", "csv_num", "md_table", "latex_escape", "latex_table", "html_table"]

#: Output formats of the table reports.
FORMATS = ("json", "markdown", "latex", "csv", "html")


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal; "–" for None.

    >>> pct(0.1234)
    '12.3'
    """
    return "–" if x is None else f"{100 * x:.1f}"


def num(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals; "–" for None."""
    return "–" if x is None else f"{x:.{digits}f}"


def p_text(x: float | None) -> str:
    """A p-value with three decimals, "<0.001" below that; "–" for None."""
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def csv_num(x: float | None) -> str:
    """A number for CSV at full precision (``repr``); empty for None."""
    return "" if x is None else repr(float(x))


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def latex_escape(s: str) -> str:
    """Escape LaTeX's special characters (and write an en dash as ``--``)."""
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("–", "--"), ("<", r"$<$")):
        s = s.replace(a, b)
    return s


def latex_table(header: list[str], rows: list[list[str]], caption: str, *, rule_before_last: bool = False) -> str:
    """A booktabs table (first two columns left, the rest right); ``rule_before_last`` sets the last
    row (e.g. the human ceiling) apart with a ``\\midrule``."""
    cols = "ll" + "r" * (len(header) - 2)
    out = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
           " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
    for k, r in enumerate(rows):
        if rule_before_last and k == len(rows) - 1:
            out.append(r"\midrule")
        out.append(" & ".join(latex_escape(c) for c in r) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{latex_escape(caption)}}}", r"\end{table}"]
    return "\n".join(out)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table, every cell escaped."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
    out += ["</tbody>", "</table>"]
    return "\n".join(out)
