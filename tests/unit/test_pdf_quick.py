"""qpdf's reading of the common PDF (``pdf_quick``) against pypdf's strict reading.

Both readers go through the same walks, so on every file that both read cleanly they must
come to the same findings (pages and flags, or the same rejection). Files that need a
repair, are encrypted or have bytes before their header are left to pypdf: qpdf then
gives None, and the inspection's result is pypdf's."""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
import pytest
from pypdf import PdfReader

import mailroom.intake.pdf_inspection as pdf_inspection
from mailroom.intake.content import Content
from mailroom.intake.inspection import InspectedFile, RejectedFileError, UploadLimits, inspect_file
from mailroom.intake.pdf_quick import read_cleanly
from tests.fixtures import documents, ocr_documents, polyglots, scans

LIMITS = UploadLimits(max_pages=50)


def _qpdf_written(pages: int, *, inherited_resources: bool = False) -> bytes:
    """A PDF written by qpdf itself: object streams and a cross-reference stream."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if inherited_resources:
        pdf.Root.Pages.Resources = pikepdf.Dictionary(ProcSet=pikepdf.Array([pikepdf.Name.PDF]))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _with_attached_files() -> bytes:
    """A letter with an associated file (/AF) and a file attachment annotation, both
    naming their file through a file specification dictionary."""
    pdf = pikepdf.open(io.BytesIO(documents.text_pdf()))
    specification = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Filespec, UF=pikepdf.String("Anlage_AF.exe"))
    )
    pdf.Root.AF = pikepdf.Array([specification])
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.FileAttachment,
        Rect=pikepdf.Array([10, 10, 30, 30]),
        FS=pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F=pikepdf.String("Notiz.bat")),
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annotation)])
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _umlaut_attachment() -> bytes:
    return documents.attachment_pdf("Bescheid_Müller.pdf")


CLEAN: dict[str, Callable[[], bytes]] = {
    "one-page letter": documents.text_pdf,
    "three pages": lambda: documents.text_pdf(["Seite 1", "Seite 2", "Seite 3"]),
    "image-only scan": lambda: documents.image_pdf(pages=2),
    "JavaScript everywhere": documents.javascript_pdf,
    "JavaScript at open only": lambda: documents.javascript_pdf(
        document_level=False, page_action=False
    ),
    "Launch action": documents.launch_action_pdf,
    "attachment": documents.attachment_pdf,
    "attachment with an umlaut": _umlaut_attachment,
    "associated file and attachment annotation": _with_attached_files,
    "huge page image": documents.huge_image_pdf,
    "no pages": documents.zero_page_pdf,
    "over the page limit": lambda: documents.text_pdf([f"Seite {n}" for n in range(60)]),
    "text beside a scan": ocr_documents.mixed_pdf,
    "born digital (reportlab-like)": lambda: scans.born_digital_pdf_bytes([["Antrag"]] * 2),
    "scanned pages": lambda: scans.scan_pdf_bytes([documents.render_page(1)]),
    "written by qpdf (object streams)": lambda: _qpdf_written(3),
}


def _catalog_naming_pages_twice() -> bytes:
    pdf = documents.text_pdf(["Seite 1"])
    return pdf.replace(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Pages 2 0 R   /Pages 2 0 R >>")


LEFT_TO_PYPDF: dict[str, Callable[[], bytes]] = {
    "broken xref offsets": documents.broken_xref_pdf,
    "a key given twice (qpdf warns)": _catalog_naming_pages_twice,
    # pypdf's incremental writer leaves out the xref stream's own entry (qpdf warns)
    "incremental updates by pypdf": polyglots.updated_pdf,
    "owner-password only": documents.owner_only_encrypted_pdf,
    "password-protected": documents.encrypted_pdf,
}


def _outcome(read: Callable[[], tuple[int, list[str]] | None]) -> object:
    try:
        return read()
    except RejectedFileError as rejected:
        return (type(rejected).__name__, str(rejected))


def _by_qpdf(data: bytes) -> object:
    return _outcome(lambda: read_cleanly(Content.of(data), 0, LIMITS, "brief.pdf"))


def _by_strict_pypdf(data: bytes) -> object:
    content = Content.of(data)
    return _outcome(
        lambda: pdf_inspection._strictly_read(
            content, 0, lambda offset, length: content.read_at(offset, length), LIMITS, "brief.pdf"
        )
    )


@pytest.mark.parametrize("kind", CLEAN)
def test_qpdf_and_pypdf_come_to_the_same_findings(kind: str) -> None:
    data = CLEAN[kind]()
    by_qpdf = _by_qpdf(data)
    assert by_qpdf is not None, "qpdf should read this file cleanly"
    by_pypdf = _by_strict_pypdf(data)
    if by_pypdf is None:  # pypdf's strict mode refuses some writers' files: its tolerant one
        by_pypdf = _outcome(
            lambda: pdf_inspection.inspect_pdf(Content.of(data), 0, LIMITS, "brief.pdf")
        )
    assert by_qpdf == by_pypdf


def test_files_named_in_specification_dictionaries_are_named_by_qpdf_too() -> None:
    assert _by_qpdf(_with_attached_files()) == (
        1,
        ["PDF contains an attachment (Anlage_AF.exe)", "PDF contains an attachment (Notiz.bat)"],
    )


@pytest.mark.parametrize("kind", LEFT_TO_PYPDF)
def test_what_qpdf_does_not_read_cleanly_is_left_to_pypdf(kind: str) -> None:
    assert _by_qpdf(LEFT_TO_PYPDF[kind]()) is None


def test_bytes_before_the_header_are_left_to_pypdf() -> None:
    data = documents.junk_before_header_pdf()
    assert read_cleanly(Content.of(data), data.index(b"%PDF-"), LIMITS, None) is None


def test_a_declared_page_count_over_the_limit_is_refused_before_the_tree_is_walked() -> None:
    data = documents.text_pdf(["Seite 1"]).replace(b"/Count 1", b"/Count 9")
    with pytest.raises(RejectedFileError) as caught:
        read_cleanly(Content.of(data), 0, UploadLimits(max_pages=5), "brief.pdf")
    assert str(caught.value) == "brief.pdf: too many pages (9 > limit 5)"


def _readings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which reader opened the file, in order, during an inspection."""
    import mailroom.intake.pdf_quick as pdf_quick

    seen: list[str] = []
    qpdf_open = pikepdf.open

    def qpdf(*args: object, **kwargs: object) -> pikepdf.Pdf:
        seen.append("qpdf")
        return qpdf_open(*args, **kwargs)  # type: ignore[arg-type]

    def pypdf(stream: object, strict: bool = False) -> PdfReader:
        seen.append("pypdf strict" if strict else "pypdf tolerant")
        return PdfReader(stream, strict=strict)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_quick.pikepdf, "open", qpdf)
    monkeypatch.setattr(pdf_inspection, "PdfReader", pypdf)
    return seen


def test_a_well_formed_pdf_is_read_once_by_qpdf(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = _readings(monkeypatch)
    result = inspect_file(documents.text_pdf(["Seite 1", "Seite 2"]), filename="a.pdf")
    assert result == InspectedFile("application/pdf", 2, ())
    assert readings == ["qpdf"]


def test_a_pdf_that_needs_a_repair_goes_on_to_pypdf_and_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings = _readings(monkeypatch)
    result = inspect_file(_catalog_naming_pages_twice(), filename="a.pdf")
    assert "PDF repaired" in result.flags
    assert readings == ["qpdf", "pypdf strict", "pypdf tolerant"]
