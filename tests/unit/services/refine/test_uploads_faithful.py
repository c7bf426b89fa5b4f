"""Uploads a real study brings: .docx tables, PDF paragraphs, ligatures, encodings.

Files are made here (python-docx, a hand-written PDF, text encoded with the codecs of the
standard library); every expected text is written out by hand.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import docx
import pytest

from annotate.services.core.errors import InputError
from annotate.services.refine.uploads import read_upload
from tests.unit.services.refine.test_uploads_limits import one_page_pdf


def docx_bytes(build) -> bytes:  # type: ignore[no-untyped-def]
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_tables_become_markdown_rows_in_document_order() -> None:
    def build(document) -> None:  # type: ignore[no-untyped-def]
        document.add_paragraph("Before the table.")
        table = document.add_table(rows=2, cols=2)
        for r, row in enumerate([("Measure", "Value"), ("Hours saved per week", "22")]):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        document.add_paragraph("After the table.")

    text = read_upload("report.docx", docx_bytes(build)).text
    assert text == ("Before the table.\n\n"
                    "| Measure | Value |\n| --- | --- |\n| Hours saved per week | 22 |\n\n"
                    "After the table.")


def test_docx_ligatures_are_normalised_and_full_width_punctuation_kept() -> None:
    text = read_upload("notes.docx", docx_bytes(lambda d: d.add_paragraph("The beneﬁt，好处。"))).text
    assert text == "The benefit，好处。"  # U+FB01 -> "fi"; U+FF0C (full-width comma) stays


def test_pdf_lines_reflow_into_paragraphs_and_ligatures_become_letters() -> None:
    # two paragraphs printed over five lines; \256 is the "fi" ligature in the standard encoding
    content = (b"BT /F1 12 Tf 14 TL 72 720 Td (Rivers carry sediment from the mountains to the) Tj T* "
               b"(sea, where it settles and slowly builds wide deltas) Tj T* (over the centuries.) Tj T* T* "
               b"(Deltas are flat and fertile, and many people) Tj T* "
               b"(live on them because the bene\\256t is large.) Tj ET")
    found = read_upload("paper.pdf", one_page_pdf(content))
    assert found.text == ("Rivers carry sediment from the mountains to the sea, where it settles and slowly "
                          "builds wide deltas over the centuries.\n\n"
                          "Deltas are flat and fertile, and many people live on them because the benefit is large.")
    assert found.pages == 1


CHINESE = "第一段：春天来了，万物复苏。\n\n第二段：夏天很热，我们去海边游泳。" * 3


@pytest.mark.parametrize(("codec", "shown"), [("gbk", ("gbk", "gb18030", "gb2312")),
                                              ("utf-16", ("utf-16", "utf_16")),
                                              ("utf-8-sig", ("utf-8-sig", "utf_8_sig"))])
def test_text_encodings_are_detected_and_named(codec: str, shown: tuple[str, ...]) -> None:
    found = read_upload("材料.txt", CHINESE.encode(codec))
    assert found.text == CHINESE
    assert found.encoding in shown and found.detected in shown


def test_the_expert_can_override_the_encoding() -> None:
    data = "Café crème".encode("cp1252")
    assert read_upload("menu.txt", data, encoding="cp1252").text == "Café crème"
    assert read_upload("menu.txt", data, encoding="latin-1").text == "Café crème"
    with pytest.raises(InputError, match="not valid utf-8 text; choose another encoding"):
        read_upload("menu.txt", data, encoding="utf-8")


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium to print a PDF")
def test_a_pdf_printed_by_chromium_reads_as_its_two_paragraphs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = ("Rivers carry sediment from the mountains to the sea, where it settles and slowly builds wide "
             "deltas over the centuries.")
    second = "Deltas are flat and fertile, and many people live on them because the benefit is large."
    page = tmp_path / "two.html"
    page.write_text(f'<html><body style="width:300px;font:14px serif"><p>{first}</p><p>{second}</p></body></html>')
    out = tmp_path / "two.pdf"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={out}", page.as_uri()], check=True, capture_output=True, timeout=120)
    # Chromium prints "fl" and "fi" as ligatures and wraps each paragraph over several lines
    assert read_upload("two.pdf", out.read_bytes()).text == f"{first}\n\n{second}"
