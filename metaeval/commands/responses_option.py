"""The ``--responses`` option, the same in ``metaeval judge``, ``grid`` and ``agreement``.

One rule names the model of every response, as ``annotate import responses`` does:

1. a line's ``"model"`` field names it;
2. otherwise the file's name given on the command line: ``--responses gpt-4o=gpt.jsonl``, or
   ``--model NAME`` for every file given without a name;
3. otherwise it is an error naming the file and line (a file name is never taken as a model name).

A line whose ``"model"`` differs from the name given for its file is an error too.

Example:
    >>> split_response_spec("gpt-4o=runs/gpt.jsonl")
    ('gpt-4o', 'runs/gpt.jsonl')
    >>> split_response_spec("all_models.jsonl")
    (None, 'all_models.jsonl')
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from metaeval.io import InputFileError, iter_jsonl

RESPONSES_HELP = ("response files: FILE whose lines carry 'model', or NAME=FILE for a file of one model's "
                  "{index, response} lines (or give --model NAME); several files allowed")


def add_responses_args(parser: argparse.ArgumentParser, *, required: bool = True, help_suffix: str = "") -> None:
    """Add ``--responses FILE|NAME=FILE ...`` and ``--model NAME`` to ``parser``."""
    parser.add_argument("--responses", required=required, nargs="+", metavar="[NAME=]FILE",
                        help=RESPONSES_HELP + help_suffix)
    parser.add_argument("--model", metavar="NAME", default=None,
                        help="the model of every --responses file given without NAME= whose lines have no 'model'")


def split_response_spec(value: str) -> tuple[str | None, str]:
    """``NAME=FILE`` -> (NAME, FILE); an existing file (even with ``=`` in its name) or ``FILE`` -> (None, FILE)."""
    if os.path.exists(value) or "=" not in value:
        return None, value
    name, path = value.split("=", 1)
    if not name.strip() or not path:
        raise InputFileError("expected NAME=FILE with a model name and a file", path=value)
    return name.strip(), path


def read_named_responses(values: Sequence[str], *, model: str | None = None) -> dict[tuple[str, str], str]:
    """Responses keyed by (index as text, model) under the module's naming rule.

    Raises:
        InputFileError: a missing field, an unnamed model, a name that contradicts the line, or a
            second response for the same (index, model); the error names file, line and field.
    """
    if model is not None and not model.strip():
        raise InputFileError("--model must not be empty", path="--model")
    out: dict[tuple[str, str], str] = {}
    for value in values:
        given, path = split_response_spec(value)
        default = given or model
        for line, obj in iter_jsonl(path):
            if "index" not in obj:
                raise InputFileError("missing", path=path, line=line, field="index")
            if not isinstance(obj.get("response"), str):
                raise InputFileError("missing or not a string", path=path, line=line, field="response")
            if "model" in obj:
                name = obj["model"]
                if not isinstance(name, str) or not name.strip():
                    raise InputFileError("expected a non-empty string", path=path, line=line, field="model")
                if default is not None and name != default:
                    raise InputFileError(f"the line names model {name!r} but the file was given as {default!r}",
                                         path=path, line=line, field="model")
            elif default is None:
                raise InputFileError("missing; name the file's model as NAME=FILE or with --model NAME",
                                     path=path, line=line, field="model")
            else:
                name = default
            key = (str(obj["index"]), name)
            if key in out:
                raise InputFileError(f"second response for index {obj['index']!r} and model {name!r}",
                                     path=path, line=line, field="index")
            out[key] = obj["response"]
    return out
