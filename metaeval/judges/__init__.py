"""LLM judges: backends chosen by spec string, the run engine, prompts, parsing and outputs.

Importing this package imports no provider SDK; see :mod:`metaeval.judges.registry`.

Example:
    >>> from metaeval.judges import parse_spec
    >>> parse_spec("anthropic:claude-sonnet-4-5")
    ('anthropic', 'claude-sonnet-4-5')
"""

from metaeval.judges.base import Backend, Completion, Request
from metaeval.judges.cache import JudgeCache
from metaeval.judges.engine import EngineSettings, JudgeEngine, Outcome, PairTask, ScoreTask
from metaeval.judges.registry import create_backend, parse_spec

__all__ = [
    "Backend",
    "Completion",
    "EngineSettings",
    "JudgeCache",
    "JudgeEngine",
    "Outcome",
    "PairTask",
    "Request",
    "ScoreTask",
    "create_backend",
    "parse_spec",
]
