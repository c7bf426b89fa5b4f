"""Write the demo judge score files (deterministic) to annotate/data/demo/scores/.

    .venv/bin/python scripts/make_demo_scores.py
"""

from __future__ import annotations

import logging

from annotate.services.judges.demo_judging import write_demo_scores

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for path in write_demo_scores():
        logging.info("wrote %s", path)
