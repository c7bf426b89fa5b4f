"""What the command lines say about themselves: the installed version and where the docs are."""

from __future__ import annotations

import importlib.metadata

DISTRIBUTION = "writingjudge"
#: The ``--help`` epilog of both command lines.
DOCS_EPILOG = ("File layouts, the commands kept stable and the fields of every report: "
               "docs/formats.md in the project's repository.")


def package_version() -> str:
    """The installed version of the ``writingjudge`` distribution.

    Example:
        >>> package_version().count(".") >= 1
        True
    """
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"
