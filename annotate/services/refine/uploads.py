"""Reading uploaded material files: ``.txt``, ``.md``, ``.pdf`` and ``.docx``.

An upload is at most :data:`MAX_UPLOAD_BYTES`. Its type is decided from the content (PDF
and ZIP magic bytes, otherwise text) and must agree with the file name's extension.

The text is extracted in a separate worker process (``python -m
annotate.services.refine.uploads``), never in the server's own process: a hostile file
(a PDF with one 10 MB content stream or 99,000 pages, a .docx with a million paragraphs or
a zip bomb) could otherwise stall every user. The worker runs under the limits of
:class:`UploadLimits` (wall time, memory through ``RLIMIT_AS``, pages, bytes inflated from
the .docx archive — counted while inflating —, paragraphs and characters), at a lower CPU
priority, and is killed when its time runs out or when the caller's ``tick`` raises (the
Streamlit page's tick raises when the person leaves or reruns the page). Every refusal is an
:class:`~annotate.services.core.errors.InputError` with a plain sentence naming the limit,
such as "this PDF has 99,000 pages; the limit is 500".

What the text becomes:

* ``.docx``: paragraphs and tables in document order; a table becomes a markdown table
  (one line per row), so "Hours saved per week | 22" is kept.
* ``.pdf``: the lines of each page are reflowed into paragraphs (a line ends its paragraph
  when it is blank, clearly shorter than the page's full lines and ends a sentence, or
  much shorter than them); words hyphenated across lines are joined.
* ``.txt``/``.md``: the encoding is detected (byte-order marks, UTF-8, then
  ``charset-normalizer`` for GBK, Big5, Shift-JIS, UTF-16 without a mark, ...); the person
  sees it and may choose another.
* All text is NFKC-normalised (ligatures such as "ﬁ" become "fi"), except the full-width
  forms and ideographic space that Chinese and Japanese text types on purpose (，：（）).

Example:
    >>> detect_upload_type(b"%PDF-1.7 ...")
    'pdf'
    >>> detect_upload_type("纯文本".encode())
    'text'
    >>> normalise_text("beneﬁt，好")
    'benefit，好'
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import IO, Any

from annotate.services.core.errors import InputError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest accepted upload (5 MiB)."""
ALLOWED_EXTENSIONS = {".txt": "text", ".md": "text", ".pdf": "pdf", ".docx": "docx"}
ENCODING_CHOICES: tuple[str, ...] = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "big5", "shift_jis",
                                     "euc-kr", "cp1252", "latin-1")
"""Encodings the expert may pick instead of the detected one (Collect materials)."""


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost. The defaults fit a real study: a 200-page report (about
    700,000 characters, 3,000 paragraphs) reads in a few seconds well inside them."""

    seconds: float = 60.0
    """Wall time for the whole extraction, worker start included."""
    memory_mb: int = 1024
    """Address space of the worker process (``RLIMIT_AS``)."""
    pages: int = 500
    """Pages of a PDF."""
    page_content_mb: float = 4.0
    """Drawing instructions of one PDF page, once decompressed (a dense text page: 10-50 KB)."""
    inflated_mb: int = 50
    """Bytes inflated from a .docx's ``word/document.xml`` (a 200-page report: about 5 MB)."""
    paragraphs: int = 5_000
    """Paragraphs (segments) of the text."""
    characters: int = 1_000_000
    """Characters of the text."""


DEFAULT_LIMITS = UploadLimits()


@dataclass(frozen=True)
class Extraction:
    """The text of an upload and how it was read.

    Attributes:
        text: the extracted, NFKC-normalised text.
        encoding: for .txt/.md, the encoding used (detected or chosen); ``None`` otherwise.
        detected: for .txt/.md, the encoding detected (shown next to the override).
        pages: for a PDF, its number of pages.
    """

    text: str
    encoding: str | None = None
    detected: str | None = None
    pages: int | None = None


class _Refused(Exception):
    """Raised inside the worker: the plain message for the person."""


# --------------------------------------------------------------------------- normalisation

_KEEP_WIDE = re.compile("([\u3000\uff01-\uff60\uffe0-\uffe6]+)")


def normalise_text(text: str) -> str:
    """NFKC, except full-width forms and the ideographic space (kept as typed)."""
    parts = _KEEP_WIDE.split(text)
    return "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))


# --------------------------------------------------------------------------- types and encodings

_BOMS: tuple[tuple[bytes, str], ...] = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                                        (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                                        (b"\xfe\xff", "utf-16"))
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect_encoding(data: bytes) -> str | None:
    """The encoding of a text file: byte-order mark, UTF-8, else charset-normalizer's best guess.

    ``None`` when nothing decodes it into text without control characters.

    Example:
        >>> detect_encoding("中文".encode("gbk") * 20) in ("gb18030", "gbk", "gb2312")
        True
        >>> detect_encoding(b"\\xff\\xfea\\x00")
        'utf-16'
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None if _CONTROL.search(text) else "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or _CONTROL.search(str(best)):
        return None
    return str(best.encoding)


def detect_upload_type(data: bytes) -> str:
    """``pdf``, ``docx``, ``text`` or ``unknown``, from the bytes alone."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else "unknown"
        except zipfile.BadZipFile:
            return "unknown"
    return "unknown" if detect_encoding(data) is None else "text"


# --------------------------------------------------------------------------- extraction (worker side)


def _check_text(text: str, limits: UploadLimits) -> str:
    if len(text) > limits.characters:
        raise _Refused(f"this file has {len(text):,} characters of text; the limit is {limits.characters:,}")
    from annotate.services.refine.splitter import segment_paragraphs

    count = len(segment_paragraphs(text))
    if count > limits.paragraphs:
        raise _Refused(f"this file has {count:,} paragraphs; the limit is {limits.paragraphs:,}")
    return text


def _plain_text(data: bytes, encoding: str | None) -> Extraction:
    detected = detect_encoding(data)
    use = encoding or detected
    if use is None:
        raise _Refused("the file is not text in any encoding we recognise; save it as UTF-8 and upload it again")
    try:
        text = data.decode(use)
    except (UnicodeDecodeError, LookupError):
        raise _Refused(f"the file is not valid {use} text; choose another encoding") from None
    if _CONTROL.search(text):
        raise _Refused(f"read as {use}, the file contains control characters; choose another encoding")
    return Extraction(text.removeprefix("\ufeff"), encoding=use, detected=detected)


_SENTENCE_END = tuple(".!?:;。！？：；\"”’')）")


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"


def reflow_lines(lines: list[str]) -> list[str]:
    """Join a page's printed lines into paragraphs (see the module docstring).

    Example:
        >>> reflow_lines(["Rivers carry sedi-", "ment to the sea and build", "deltas.", "",
        ...               "Deltas are flat."])
        ['Rivers carry sediment to the sea and build deltas.', 'Deltas are flat.']
    """
    widths = [len(line.strip()) for line in lines if line.strip()]
    full = max(widths, default=0)
    paragraphs: list[str] = []
    current = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[:1].islower():
            current = current[:-1] + line
        elif _is_cjk(current[-1]) and _is_cjk(line[0]):
            current += line
        else:
            current += " " + line
        ends = line.endswith(_SENTENCE_END)
        if (ends and len(line) < 0.85 * full) or len(line) < 0.6 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _pdf_text(data: bytes, limits: UploadLimits) -> Extraction:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise _Refused("the PDF is encrypted; upload an unprotected copy")
    count = len(reader.pages)
    if count > limits.pages:
        raise _Refused(f"this PDF has {count:,} pages; the limit is {limits.pages:,}")
    paragraphs: list[str] = []
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        contents = page.get_contents()
        size = len(contents.get_data()) if contents is not None else 0
        if size > limits.page_content_mb * 1_000_000:
            raise _Refused(f"page {number} of this PDF holds {size / 1_000_000:.1f} MB of drawing instructions; "
                           f"the limit is {limits.page_content_mb:g} MB per page")
        lines = (page.extract_text() or "").split("\n")
        found = reflow_lines(lines)
        total += sum(len(p) for p in found)
        if total > limits.characters:
            raise _Refused(f"this PDF has more than {limits.characters:,} characters of text; "
                           f"the limit is {limits.characters:,}")
        paragraphs.extend(found)
    text = "\n\n".join(paragraphs)
    if not text.strip():
        raise _Refused("the PDF has no extractable text (a scan?); paste the text instead")
    return Extraction(text, pages=count)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class _CountingReader(io.RawIOBase):
    """Reads an archive member, refusing once more than ``limit`` bytes were inflated."""

    def __init__(self, member: IO[bytes], limit: int) -> None:
        self.member, self.limit, self.inflated = member, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        chunk = self.member.read(65536 if size is None or size < 0 else min(size, 65536))
        self.inflated += len(chunk)
        if self.inflated > self.limit:
            raise _Refused(f"the Word document inflates to more than {self.limit // 1_000_000:,} MB; "
                           f"the limit is {self.limit // 1_000_000:,} MB")
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _docx_blocks(stream: IO[bytes], limits: UploadLimits) -> Iterator[str]:
    """Paragraphs and tables (as markdown) of ``word/document.xml``, in document order."""
    from lxml import etree  # type: ignore[import-untyped]

    texts: list[list[str]] = []  # open paragraphs (a text box nests one in another)
    tables: list[list[list[str]]] = []  # open tables: rows of cells
    cells: list[list[str]] = []  # open cells: their paragraphs
    parser = etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    for event, element in parser:
        tag = element.tag
        if event == "start":
            if tag == _W + "p":
                texts.append([])
            elif tag == _W + "tbl":
                tables.append([])
            elif tag == _W + "tr" and tables:
                tables[-1].append([])
            elif tag == _W + "tc":
                cells.append([])
            continue
        if tag == _W + "t" and texts:
            texts[-1].append(element.text or "")
        elif tag == _W + "tab" and texts:
            texts[-1].append("\t")
        elif tag in (_W + "br", _W + "cr") and texts:
            texts[-1].append("\n")
        elif tag == _W + "p" and texts:
            text = "".join(texts.pop())
            if cells:
                cells[-1].append(text)
            elif texts:
                texts[-1].append(text)
            elif text.strip():
                yield text
        elif tag == _W + "tc" and cells:
            cell = _cell(" ".join(cells.pop()))
            if tables and tables[-1]:
                tables[-1][-1].append(cell)
        elif tag == _W + "tbl" and tables:
            rows = [row for row in tables.pop() if any(c.strip() for c in row)]
            if rows:
                width = max(len(row) for row in rows)
                lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in rows]
                lines.insert(1, "|" + " --- |" * width)
                table = "\n".join(lines)
                if cells:  # a table inside a table cell: its rows join the cell's text
                    cells[-1].append(" ".join(" / ".join(row) for row in rows))
                else:
                    yield table
        if tag in (_W + "p", _W + "tc", _W + "tr", _W + "tbl") or not (texts or cells or tables):
            element.clear()  # keep memory flat: drop what was read
            while element.getprevious() is not None:
                del element.getparent()[0]


def _docx_text(data: bytes, limits: UploadLimits) -> Extraction:
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as member:
            reader = io.BufferedReader(_CountingReader(member, limits.inflated_mb * 1_000_000))
            blocks: list[str] = []
            total = 0
            for block in _docx_blocks(reader, limits):
                blocks.append(block)
                total += len(block)
                if len(blocks) > limits.paragraphs:
                    raise _Refused(f"this Word document has more than {limits.paragraphs:,} paragraphs; "
                                   f"the limit is {limits.paragraphs:,}")
                if total > limits.characters:
                    raise _Refused(f"this Word document has more than {limits.characters:,} characters of text; "
                                   f"the limit is {limits.characters:,}")
    except etree.XMLSyntaxError as exc:
        raise _Refused(f"the Word document's XML is malformed (line {exc.lineno}); save it again from Word") from None
    except (zipfile.BadZipFile, KeyError, EOFError, zipfile.LargeZipFile):
        raise _Refused("could not read the Word document (a damaged archive)") from None
    text = "\n\n".join(blocks)
    if not text.strip():
        raise _Refused("the Word document has no text")
    return Extraction(text)


def _extract(kind: str, data: bytes, limits: UploadLimits, encoding: str | None) -> Extraction:
    if kind == "pdf":
        found = _pdf_text(data, limits)
    elif kind == "docx":
        found = _docx_text(data, limits)
    else:
        found = _plain_text(data, encoding)
    text = normalise_text(found.text)
    _check_text(text, limits)
    return Extraction(text, found.encoding, found.detected, found.pages)


def _set_worker_limits(limits: UploadLimits) -> None:
    try:
        import resource

        cap = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        os.nice(10)  # the people using the app come first
    except (ImportError, ValueError, OSError):  # not on this platform: the parent's timer still holds
        log.warning("upload worker: resource limits not applied")


def _worker_main() -> int:
    """Read a header line and the file from stdin; write one JSON object to stdout."""
    header = json.loads(sys.stdin.buffer.readline())
    limits = UploadLimits(**header["limits"])
    _set_worker_limits(limits)
    data = sys.stdin.buffer.read()
    try:
        found = _extract(header["kind"], data, limits, header.get("encoding"))
        answer: dict[str, Any] = {"ok": True, **asdict(found)}
    except _Refused as exc:
        answer = {"ok": False, "message": str(exc)}
    except MemoryError:
        answer = {"ok": False, "message": f"reading this file needs more than {limits.memory_mb:,} MB of memory, "
                                          "the limit; upload a smaller file or paste the part you need"}
    except RecursionError:
        answer = {"ok": False, "message": "the file is nested too deeply to read"}
    except Exception as exc:  # noqa: BLE001 - any reader failure is a plain refusal, never a traceback
        what = {"pdf": "the PDF", "docx": "the Word document"}.get(header["kind"], "the file")
        answer = {"ok": False, "message": f"could not read {what} ({type(exc).__name__})"}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- extraction (server side)


def _run_worker(kind: str, data: bytes, limits: UploadLimits, encoding: str | None,
                tick: Callable[[float], object] | None) -> dict[str, Any]:
    header = json.dumps({"kind": kind, "limits": asdict(limits), "encoding": encoding}).encode() + b"\n"
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "annotate.services.refine.uploads"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    payload: bytes | None = header + data
    try:
        while True:
            try:
                out, _err = process.communicate(payload, timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                payload = None
                elapsed = time.monotonic() - started
                if elapsed > limits.seconds:
                    raise InputError(f"reading this file took too long; the limit is {limits.seconds:g} seconds "
                                     "(upload a smaller file or paste the part you need)", field="file") from None
                if tick is not None:
                    tick(elapsed)  # raises when the person left: the worker is killed below
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    try:
        answer: dict[str, Any] = json.loads(out)
    except ValueError:
        log.warning("upload worker ended with status %s and no answer", process.returncode)
        if process.returncode is not None and process.returncode < 0:
            answer = {"ok": False, "message": "reading this file went over the time or memory limit; "
                                              "upload a smaller file or paste the part you need"}
        else:
            answer = {"ok": False, "message": "could not read the file"}
    return answer


def read_upload(filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                limits: UploadLimits = DEFAULT_LIMITS, encoding: str | None = None,
                tick: Callable[[float], object] | None = None) -> Extraction:
    """The text of an uploaded ``.txt``, ``.md``, ``.pdf`` or ``.docx`` file, read in a worker process.

    Args:
        encoding: for text files, the encoding to use instead of the detected one.
        tick: called about four times a second with the seconds elapsed while the worker
            runs; whatever it raises stops and kills the worker, then propagates.

    Raises:
        InputError: (naming the file, field ``file``) unsupported extension, too large,
            content that is not what the extension says, unreadable or empty file, or a
            limit of :class:`UploadLimits` reached (the message names it).
    """
    suffix = PurePath(filename).suffix.lower()
    expected = ALLOWED_EXTENSIONS.get(suffix)
    if expected is None:
        raise InputError(f"unsupported file type {suffix or '(none)'!r}; upload .txt, .md, .pdf or .docx",
                         path=filename, field="file")
    if len(data) > max_bytes:
        raise InputError(f"the file is too large ({len(data):,} bytes; at most {max_bytes:,})",
                         path=filename, field="file")
    if not data:
        raise InputError("the file is empty", path=filename, field="file")
    found = detect_upload_type(data)
    if found != expected and not (expected == "text" and found == "unknown" and encoding):
        label = {"pdf": "a PDF", "docx": "a Word document", "text": "plain text",
                 "unknown": "binary data of an unsupported kind"}[found]
        raise InputError(f"the content is {label}, not what the extension {suffix} says", path=filename,
                         field="file")
    try:
        answer = _run_worker(expected, data, limits, encoding, tick)
    except InputError as exc:
        raise InputError(exc.message, path=filename, field="file") from None
    if not answer.get("ok"):
        raise InputError(str(answer.get("message", "could not read the file")), path=filename, field="file")
    return Extraction(answer["text"], answer.get("encoding"), answer.get("detected"), answer.get("pages"))


def extract_upload(filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES,
                   limits: UploadLimits = DEFAULT_LIMITS) -> str:
    """Only the text of :func:`read_upload`."""
    return read_upload(filename, data, max_bytes=max_bytes, limits=limits).text


if __name__ == "__main__":
    raise SystemExit(_worker_main())
