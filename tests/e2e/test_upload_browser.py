"""An annotator uploads hostile and foreign files on *Collect materials* in a real browser:
a 99,000-page PDF and a .docx zip bomb end in one plain sentence
naming the limit (no traceback, no checkboxes); a GBK .txt reads as Chinese and names its
encoding."""

from __future__ import annotations

from sqlmodel import Session

from annotate.db.models import InstructionVersion, Query
from annotate.services.accounts import users
from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_refine_browser import PASSWORD, log_in, open_page
from tests.unit.services.refine.test_uploads_limits import docx, pdf

CHINESE = "第一段：春天来了，万物复苏。\n\n第二段：夏天很热，我们去海边游泳。"


def seed(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        q = Query(index=900001, subdomain_id=sub, lang="zh", original_text="写一篇关于季节的短文。",
                  needs_materials=True, material_requirement="a text about the seasons")
        s.add(q)
        s.flush()
        s.add(InstructionVersion(query_id=q.id, version_no=1, text=q.original_text, status="approved",
                                 reason="imported"))
        s.commit()
        users.create_user(session=s, username="ann1", role="annotator", password=PASSWORD)


def many_pages() -> bytes:
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b"6 0 R " * 99 + b"] /Count 99000 >>",
        b"<< /Type /Page /Parent 6 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [" + b"3 0 R " * 1000 + b"] /Count 1000 >>",
    ])


def test_hostile_and_foreign_uploads_end_in_plain_messages(live_server, browser_context) -> None:  # type: ignore[no-untyped-def]
    seed(live_server.engine)
    page = browser_context.new_page()
    log_in(page, live_server.base_url, "ann1")
    open_page(page, "Collect materials")
    page.get_by_text("Upload a file").click()
    wait_for_app(page)
    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    for name, mime, data, expected in [
        ("many.pdf", "application/pdf", many_pages(), "this PDF has 99,000 pages; the limit is 500"),
        ("bomb.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         docx(chunks=200), "the Word document inflates to more than 50 MB; the limit is 50 MB"),
    ]:
        uploader.set_input_files({"name": name, "mimeType": mime, "buffer": data})
        page.get_by_text(expected).wait_for(timeout=60_000)
        wait_for_app(page)
        body = page.inner_text("body")
        assert "Traceback" not in body and "/work" not in body and ".py" not in body
        assert page.locator("[data-testid='stCheckbox']").count() == 0
    uploader.set_input_files({"name": "材料.txt", "mimeType": "text/plain", "buffer": CHINESE.encode("gbk")})
    page.get_by_text("夏天很热").first.wait_for(timeout=60_000)
    page.get_by_text("Read as gb").first.wait_for()
