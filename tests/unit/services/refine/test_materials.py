"""Collected materials: uploads (every bad kind), segment choice, second-person verification."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import Session, select

from annotate.db.engine import init_db
from annotate.db.models import MaterialDocument, MaterialVersion, Query, User
from annotate.services.content.content import current_materials, render_query_text
from annotate.services.core.errors import Conflict, InputError, PermissionDenied
from annotate.services.refine import materials, pruning, uploads

DEMO_QUERY = "Write a short essay about rivers."


def hand_written_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica, written object by object (offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- uploads


def test_good_uploads_of_every_type() -> None:
    assert uploads.extract_upload("notes.txt", "\ufeff第一段。\n\n第二段。".encode()) == "第一段。\n\n第二段。"
    assert uploads.extract_upload("notes.md", b"# Rivers\n\nThe Nile.") == "# Rivers\n\nThe Nile."
    pdf = uploads.extract_upload("paper.pdf", hand_written_pdf("Rivers carry sediment."))
    assert "Rivers carry sediment." in pdf
    text = uploads.extract_upload("report.DOCX", docx_bytes(["First paragraph.", "", "Second paragraph."]))
    assert text == "First paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize(("name", "data", "message"), [
    ("tool.exe", b"MZ\x90\x00", "unsupported file type '.exe'"),
    ("noextension", b"plain", "unsupported file type '\\(none\\)'"),
    ("fake.pdf", b"just some text", "content is plain text, not what the extension .pdf says"),
    ("fake.txt", b"%PDF-1.4\n...", "content is a PDF, not what the extension .txt says"),
    ("fake.docx", b"PK\x03\x04not really a zip", "content is binary data"),
    ("binary.txt", b"abc\x00def", "content is binary data"),
    ("empty.txt", b"", "the file is empty"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage without xref", "could not read the PDF|no extractable text"),
])
def test_bad_uploads_are_refused_naming_the_file(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        uploads.extract_upload(name, data)
    assert str(info.value).startswith(f"{name}, field file: ")


def test_too_large_upload() -> None:
    data = b"a" * 2049
    with pytest.raises(InputError, match="too large \\(2,049 bytes; at most 2,048\\)"):
        uploads.extract_upload("big.txt", data, max_bytes=2048)
    big = b"a" * (uploads.MAX_UPLOAD_BYTES + 1)
    with pytest.raises(InputError, match="too large"):
        uploads.extract_upload("big.txt", big)


def test_pdf_without_text_and_docx_renamed() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(InputError, match="no extractable text"):
        uploads.extract_upload("scan.pdf", buffer.getvalue())
    with pytest.raises(InputError, match="content is a Word document, not what the extension .pdf says"):
        uploads.extract_upload("report.pdf", docx_bytes(["x"]))


# --------------------------------------------------------------------------- collection and verification


@pytest.fixture()
def db(tmp_path: Path):
    engine = init_db(f"sqlite:///{tmp_path / 'm.db'}")
    from annotate.services.core.taxonomy import seed_taxonomy, subdomain_index

    with Session(engine, expire_on_commit=False) as s:
        seed_taxonomy(s)
        sub = next(iter(subdomain_index(s).values()))
        s.add(Query(index=900001, subdomain_id=sub, lang="en", original_text=DEMO_QUERY, needs_materials=True,
                    material_requirement="a recent report on river pollution"))
        for name, role in (("ann1", "annotator"), ("ann2", "annotator"), ("exp1", "expert"), ("res1", "researcher")):
            s.add(User(username=name, role=role, password_hash="x"))
        s.commit()
        from annotate.db.models import InstructionVersion

        qid = s.exec(select(Query.id)).one()
        s.add(InstructionVersion(query_id=qid, version_no=1, text=DEMO_QUERY, status="approved"))
        s.commit()
        yield s
    engine.dispose()


def test_collect_keep_pertinent_segments_and_verify(db: Session) -> None:
    people = {u.username: u for u in db.exec(select(User))}
    qid = db.exec(select(Query.id)).one()
    text = "Alpha beta.\n\n甲乙丙。\n\nGamma delta epsilon.\n"
    assert materials.material_segments(text.strip()) == [("Alpha beta.", "\n\n"), ("甲乙丙。", "\n\n"),
                                                           ("Gamma delta epsilon.", "")]
    with pytest.raises(InputError, match="source url is required"):
        materials.add_material(session=db, actor=people["ann1"], query_id=qid, title="Report", text=text,
                               source_url=" ", license_note="CC BY 4.0")
    with pytest.raises(PermissionDenied):
        materials.add_material(session=db, actor=people["res1"], query_id=qid, title="Report", text=text,
                               source_url="https://example.org/r", license_note="CC BY 4.0")
    doc = materials.add_material(session=db, actor=people["ann1"], query_id=qid, title="Report", text=text,
                                 source_url="https://example.org/r", license_note="CC BY 4.0", kept=[0, 2])
    assert doc.status == "pending"
    needs = materials.queries_needing_materials(session=db)
    assert [(n.index, n.active, n.pending) for n in needs] == [(900001, 0, 1)]
    # pending materials are not shown yet
    assert render_query_text(session=db, query_id=qid) == DEMO_QUERY
    with pytest.raises(PermissionDenied, match="second person"):
        materials.verify_material(session=db, actor=people["ann1"], document_id=doc.id)
    assert [d.id for d in materials.pending_verifications(session=db, actor=people["ann2"])] == [doc.id]
    assert materials.pending_verifications(session=db, actor=people["ann1"]) == []
    materials.verify_material(session=db, actor=people["ann2"], document_id=doc.id)
    with pytest.raises(Conflict):
        materials.verify_material(session=db, actor=people["exp1"], document_id=doc.id)
    assert db.get(Query, qid).content_revision == 2
    # kept segments 0 and 2 joined by segment 0's own separator, after a blank line
    assert render_query_text(session=db, query_id=qid) == DEMO_QUERY + "\n\nAlpha beta.\n\nGamma delta epsilon."
    assert [(d.title, t) for d, t in current_materials(session=db, query_id=qid)] == \
        [("Report", "Alpha beta.\n\nGamma delta epsilon.")]
    # preview of pruning the collected material back to its first segment, counted by hand:
    # before "Alpha beta.\n\nGamma delta epsilon." = 11 + 2 + 20 = 33 chars, 5 words;
    # after "Alpha beta." = 11 chars, 2 words
    p = pruning.preview_pruning(session=db, document_id=doc.id, kept=[0])
    assert (p.chars_before, p.chars_after, p.tokens_before, p.tokens_after) == (33, 11, 5, 2)
    full = pruning.preview_pruning(session=db, document_id=doc.id, kept=[0, 1, 2])
    # "Alpha beta.\n\n甲乙丙。\n\nGamma delta epsilon." = 11+2+4+2+20 = 39 chars; 2 + (3 CJK + "。") + 3 = 9
    assert (full.chars_after, full.tokens_after) == (39, 9)


def test_rejected_material_never_shows(db: Session) -> None:
    people = {u.username: u for u in db.exec(select(User))}
    qid = db.exec(select(Query.id)).one()
    doc = materials.add_material(session=db, actor=people["exp1"], query_id=qid, title="Blog", text="Off topic.",
                                 source_url="a blog", license_note="unknown")
    with pytest.raises(InputError, match="why"):  # a rejection says why
        materials.verify_material(session=db, actor=people["ann1"], document_id=doc.id, approve=False, note=" ")
    assert db.get(MaterialDocument, doc.id).status == "pending"
    materials.verify_material(session=db, actor=people["ann1"], document_id=doc.id, approve=False,
                              note="a blog post, not a source")
    assert db.get(MaterialDocument, doc.id).status == "rejected"
    first = db.exec(select(MaterialVersion).where(MaterialVersion.document_id == doc.id)).one()
    assert first.review_note == "a blog post, not a source"
    assert render_query_text(session=db, query_id=qid) == DEMO_QUERY
    assert db.get(Query, qid).content_revision == 1
