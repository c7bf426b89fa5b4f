"""Both command lines print the installed version and point to docs/formats.md."""

from __future__ import annotations

import importlib.metadata

import pytest

from annotate.commands import cli as annotate_cli
from metaeval import cli as metaeval_cli

CLIS = [("annotate", annotate_cli.main), ("metaeval", metaeval_cli.main)]


@pytest.mark.parametrize(("prog", "main"), CLIS)
def test_version_is_the_installed_distribution(prog, main, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"{prog} {importlib.metadata.version('writingjudge')}"


@pytest.mark.parametrize(("prog", "main"), CLIS)
def test_help_links_the_formats_reference_and_nothing_outside(prog, main, capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "docs/formats.md" in out
    assert "../shared" not in out and "DESIGN.md" not in out
