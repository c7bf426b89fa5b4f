"""``python -m annotate``: the same as the ``annotate`` command."""

import sys

from annotate.commands.cli import main

sys.exit(main())
