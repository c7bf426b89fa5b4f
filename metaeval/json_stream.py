"""Read a JSON array element by element, without holding the file's text at once.

FastChat writes its judgments as one JSON array. :func:`iter_json_array` reads such a file in
chunks and decodes one element at a time with :meth:`json.JSONDecoder.raw_decode`, so a 1 GB
array costs the elements being kept, not the text plus every element. Errors are
:class:`~metaeval.io.InputFileError` naming the file, the line and the element (``[i]``):
invalid UTF-8, invalid JSON, nesting too deep for the decoder, text after the closing ``]``.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = p.write_text('\\ufeff [ {"a": 1},\\n {"a": [2, 3]} ]\\n', encoding="utf-8")
    >>> [(i, obj) for i, obj in iter_json_array(p, chunk_size=4)]
    [(0, {'a': 1}), (1, {'a': [2, 3]})]
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from metaeval.io import InputFileError

__all__ = ["iter_json_array"]

_WHITESPACE = " \t\r\n"
_DECODER = json.JSONDecoder()


class _Reader:
    """A growing text buffer over a UTF-8 file; ``line`` counts the newlines dropped so far."""

    def __init__(self, handle: Any, path: Path, chunk_size: int) -> None:
        self.handle, self.path, self.chunk_size = handle, path, chunk_size
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False

    def more(self, size: int | None = None) -> bool:
        """Append up to ``size`` more characters' worth of bytes; False at the end of the file."""
        if self.eof:
            return False
        raw = self.handle.read(size or self.chunk_size)
        try:
            text = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise InputFileError("not valid UTF-8", path=self.path, line=self.here()) from None
        if not raw:
            self.eof = True
        # drop what was consumed, counting its lines
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf, self.pos = self.buf[self.pos:] + text, 0
        return bool(raw) or bool(text)

    def here(self) -> int:
        return self.line + self.buf.count("\n", 0, self.pos)

    def skip_space(self) -> str:
        """The next non-blank character (consumed only by the caller), '' at the end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""


def iter_json_array(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, element)`` of the JSON array in ``path``, reading it in chunks."""
    p = Path(path)
    try:
        handle = open(p, "rb")  # noqa: SIM115 - closed below, also when the caller stops early
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}", path=p) from exc
    with handle:
        r = _Reader(handle, p, chunk_size)
        if r.skip_space() != "[":
            raise InputFileError("expected a JSON array", path=p, line=r.here())
        r.pos += 1
        index = 0
        if r.skip_space() == "]":
            r.pos += 1
        else:
            while True:
                if not r.skip_space():
                    raise InputFileError("invalid JSON: the array is not closed", path=p, line=r.here())
                grow = chunk_size
                while True:
                    try:
                        obj, end = _DECODER.raw_decode(r.buf, r.pos)
                        # a number or literal cut by the chunk's end would decode short: read on
                        if end == len(r.buf) and not r.eof:
                            raise json.JSONDecodeError("incomplete", r.buf, end)
                        break
                    except json.JSONDecodeError as exc:
                        if r.eof:
                            raise InputFileError(f"invalid JSON: {exc.msg}", path=p, line=r.here(),
                                                 field=f"[{index}]") from None
                        r.more(grow)
                        grow *= 2  # an element longer than a chunk: read it in doubling steps
                    except RecursionError:
                        raise InputFileError("invalid JSON: nested too deeply", path=p, line=r.here(),
                                             field=f"[{index}]") from None
                r.pos = end
                yield index, obj
                index += 1
                sep = r.skip_space()
                r.pos += 1
                if sep == "]":
                    break
                if sep != ",":
                    raise InputFileError("invalid JSON: expected ',' or ']' after an element", path=p,
                                         line=r.here(), field=f"[{index - 1}]")
        if r.skip_space():
            raise InputFileError("invalid JSON: text after the array's closing ']'", path=p, line=r.here())
