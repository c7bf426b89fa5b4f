"""Reading uploaded material files: ``.txt``, ``.md``, ``.pdf`` and ``.docx``.

Uploads: ``.txt``, ``.md``, ``.pdf`` (text via ``pypdf``) and ``.docx`` (``python-docx``), at
most :data:`MAX_UPLOAD_BYTES`. The type is decided from the content (PDF and ZIP magic
bytes, UTF-8 text without NUL bytes) and must agree with the file name's extension.

Example:
    >>> detect_upload_type(b"%PDF-1.7 ...")
    'pdf'
    >>> detect_upload_type("纯文本".encode())
    'text'
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from annotate.services.core.errors import InputError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest accepted upload (5 MiB)."""
ALLOWED_EXTENSIONS = {".txt": "text", ".md": "text", ".pdf": "pdf", ".docx": "docx"}


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
    if b"\x00" in data:
        return "unknown"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    return "text"


def _pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("the PDF is encrypted; upload an unprotected copy", path=name, field="file")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"could not read the PDF ({type(exc).__name__}: {exc})", path=name, field="file") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError("the PDF has no extractable text (a scan?); paste the text instead",
                         path=name, field="file")
    return text


def _docx_text(data: bytes, name: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"could not read the Word document ({type(exc).__name__})", path=name,
                         field="file") from exc
    text = "\n\n".join(p.text for p in document.paragraphs if p.text.strip())
    if not text:
        raise InputError("the Word document has no text", path=name, field="file")
    return text


def extract_upload(filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The text of an uploaded ``.txt``, ``.md``, ``.pdf`` or ``.docx`` file.

    Raises:
        InputError: (naming the file, field ``file``) unsupported extension, too large,
            content that is not what the extension says, unreadable or empty file.
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
    if found != expected:
        label = {"pdf": "a PDF", "docx": "a Word document", "text": "plain text",
                 "unknown": "binary data of an unsupported kind"}[found]
        raise InputError(f"the content is {label}, not what the extension {suffix} says", path=filename,
                         field="file")
    if expected == "pdf":
        return _pdf_text(data, filename)
    if expected == "docx":
        return _docx_text(data, filename)
    text = data.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text
