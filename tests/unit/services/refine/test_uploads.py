"""Uploads are size-limited and type-checked (annotate.services.refine.uploads.extract_upload),
and the server refuses larger uploads before they reach the page (.streamlit/config.toml)."""

from __future__ import annotations

import io
import tomllib
import zipfile
from pathlib import Path

import pytest

from annotate.services.core.errors import InputError
from annotate.services.refine.uploads import MAX_UPLOAD_BYTES, extract_upload

ROOT = Path(__file__).resolve().parents[4]


def test_too_large_refused_and_limit_matches_server_config():
    with pytest.raises(InputError, match="too large") as err:
        extract_upload("notes.txt", b"a" * (MAX_UPLOAD_BYTES + 1))
    assert "notes.txt" in str(err.value)
    assert extract_upload("notes.txt", b"a" * 1000) == "a" * 1000
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES


@pytest.mark.parametrize("name", ["evil.html", "evil.svg", "evil.exe", "evil.js", "noextension", "a.txt.exe"])
def test_unsupported_types_refused(name):
    with pytest.raises(InputError, match="unsupported file type"):
        extract_upload(name, b"<script>alert(1)</script>")


def test_content_must_match_extension():
    with pytest.raises(InputError, match="not what the extension"):
        extract_upload("paper.txt", b"%PDF-1.7\n%binary")
    with pytest.raises(InputError):
        extract_upload("paper.pdf", b"just some text")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a ZIP that is no Word document
        zf.writestr("payload.sh", "rm -rf /")
    with pytest.raises(InputError):
        extract_upload("report.docx", buf.getvalue())
    with pytest.raises(InputError):
        extract_upload("notes.md", b"text\x00with a NUL byte")
    with pytest.raises(InputError, match="empty"):
        extract_upload("notes.md", b"")


def test_markup_in_a_text_upload_is_kept_as_text():
    # extraction keeps the characters; rendering escapes them (tests/e2e/test_security_browser.py)
    assert extract_upload("n.md", b"<img src=x onerror=alert(1)>") == "<img src=x onerror=alert(1)>"
