"""Rendering of metaeval results as Markdown, LaTeX, HTML, CSV and JSON, and plotly figures.

One module per result: :mod:`.agreement` (Table 4), :mod:`.correlation`, :mod:`.rankings`,
:mod:`.annotators`; :mod:`.tables` holds the shared table and number helpers.
"""
