"""The rendering kit: safe HTML and markdown, panes, heatmaps. Never touches the database
(tests/unit/rules/test_ui_kit_static.py)."""
