"""The intake's file inspection: recognise uploads by content, reject bad input by name."""

from __future__ import annotations

import io
import logging
import time
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader

from mailroom.intake.inspection import (
    DamagedFileError,
    EmptyFileError,
    EncryptedPdfError,
    FileTooLargeError,
    ImageTooLargeError,
    ImageTooSmallError,
    InspectedFile,
    NoPagesError,
    RejectedFileError,
    TooManyPagesError,
    UnsupportedFileTypeError,
    UploadLimits,
    inspect_file,
)
from tests.fixtures import documents

PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"


def rejection(
    data: bytes, filename: str | None = None, limits: UploadLimits = UploadLimits()
) -> RejectedFileError:
    with pytest.raises(RejectedFileError) as caught:
        inspect_file(data, filename=filename, limits=limits)
    return caught.value


# --- good input ----------------------------------------------------------------------------


def test_text_pdf_fixture_keeps_german_umlauts_extractable() -> None:
    reader = PdfReader(io.BytesIO(documents.text_pdf(["Grüße aus Köln", "Straße"])))
    assert [page.extract_text() for page in reader.pages] == ["Grüße aus Köln", "Straße"]


def test_born_digital_pdf_is_accepted_with_its_page_count() -> None:
    result = inspect_file(documents.text_pdf(["Seite 1", "Seite 2", "Seite 3"]), filename="a.pdf")
    assert result == InspectedFile(media_type=PDF, pages=3, flags=())


def test_image_only_pdf_is_accepted() -> None:
    result = inspect_file(documents.image_pdf(pages=2), filename="scan.pdf")
    assert result == InspectedFile(media_type=PDF, pages=2, flags=())


def test_multi_page_tiff_is_accepted_with_every_page_counted() -> None:
    result = inspect_file(documents.tiff_pages(3), filename="stapel.tif")
    assert result == InspectedFile(media_type=TIFF, pages=3, flags=())


def test_png_page_is_accepted() -> None:
    assert inspect_file(documents.png_page(), filename="seite.png") == InspectedFile(PNG, 1, ())


def test_jpeg_page_is_accepted_without_exif_flag() -> None:
    assert inspect_file(documents.jpeg_page(), filename="foto.jpg") == InspectedFile(JPEG, 1, ())


def test_png_named_as_jpg_is_recognised_by_content_and_flagged() -> None:
    result = inspect_file(documents.png_page(), filename="png_named_as.jpg")
    assert result.media_type == PNG
    assert result.flags == ("extension does not match content",)


@pytest.mark.parametrize("filename", [None, "upload", "Brief vom 02.03.2026"])
def test_file_without_a_known_extension_is_recognised_without_a_mismatch_flag(
    filename: str | None,
) -> None:
    assert inspect_file(documents.text_pdf(), filename=filename).flags == ()


def test_many_pages_are_flagged_as_possibly_unseparated_batch() -> None:
    limits = UploadLimits(many_pages_warning=2)
    result = inspect_file(documents.tiff_pages(3), limits=limits)
    assert result.flags == ("many pages (3) — batch not separated?",)


# --- accepted with a flag ------------------------------------------------------------------


def test_owner_only_encrypted_pdf_is_accepted_with_restrictions_flag() -> None:
    result = inspect_file(documents.owner_only_encrypted_pdf())
    assert result.pages == 1
    assert result.flags == ("PDF permissions restricted (opened without password)",)


@pytest.mark.parametrize(
    "placement",
    [
        {"open_action": True, "document_level": False, "page_action": False},
        {"open_action": False, "document_level": True, "page_action": False},
        {"open_action": False, "document_level": False, "page_action": True},
    ],
    ids=["open_action", "names_javascript", "page_additional_action"],
)
def test_javascript_anywhere_in_a_pdf_is_flagged_as_active_content(
    placement: dict[str, bool],
) -> None:
    result = inspect_file(documents.javascript_pdf(**placement))
    assert result.flags == ("active content (JavaScript) found",)


def test_launch_action_is_flagged_as_active_content() -> None:
    result = inspect_file(documents.launch_action_pdf())
    assert result.flags == ("active content (Launch action) found",)


def test_embedded_attachment_is_flagged_with_its_name() -> None:
    result = inspect_file(documents.attachment_pdf())
    assert result.flags == ("PDF contains an attachment (Rechnung_2026.exe)",)


def test_pdf_with_broken_xref_offsets_is_accepted_and_flagged_as_repaired() -> None:
    result = inspect_file(documents.broken_xref_pdf())
    assert result.pages == 1
    assert "PDF repaired" in result.flags


def _strictness_of_each_reading(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ``strict`` argument of every PdfReader the inspection opens."""
    import mailroom.intake.pdf_inspection as pdf_inspection

    seen: list[bool] = []

    def recording(stream: object, strict: bool = False) -> PdfReader:
        seen.append(strict)
        return PdfReader(stream, strict=strict)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_inspection, "PdfReader", recording)
    return seen


def _catalog_naming_pages_twice() -> bytes:
    pdf = documents.text_pdf(["Seite 1"])
    twice = pdf.replace(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Pages 2 0 R   /Pages 2 0 R >>")
    assert len(twice) == len(pdf) and twice != pdf
    return twice


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("root_level", [logging.WARNING, logging.ERROR])
def test_a_repair_is_flagged_whatever_the_log_level(root_level: int) -> None:
    """GIVEN the process logs at ERROR only (MAILROOM_LOG_LEVEL=error), or at WARNING
    THEN a PDF that needed a repair is still flagged (pypdf reports repairs as log
    warnings), and pypdf's warnings reach the process's handlers only at WARNING."""
    root = logging.getLogger()
    level, seen = root.level, _Records()
    root.setLevel(root_level)
    root.addHandler(seen)
    try:
        result = inspect_file(_catalog_naming_pages_twice(), filename="a.pdf")
    finally:
        root.removeHandler(seen)
        root.setLevel(level)
    assert "PDF repaired" in result.flags
    from_pypdf = [r for r in seen.records if r.name.startswith("pypdf")]
    assert bool(from_pypdf) == (root_level == logging.WARNING)


def test_the_ocr_command_quiets_pypdf_without_blinding_the_inspection(tmp_path) -> None:
    """`mailroom ocr` hides pypdf's notes; run in this process, it must not switch off the
    repair detection of later inspections (it used to set pypdf's logger to ERROR)."""
    from typer.testing import CliRunner

    from mailroom.cli import app

    scan = tmp_path / "a.pdf"
    scan.write_bytes(_catalog_naming_pages_twice())
    assert CliRunner().invoke(app, ["ocr", str(scan)]).exit_code == 0
    assert "PDF repaired" in inspect_file(_catalog_naming_pages_twice(), filename="a.pdf").flags


def test_what_strict_mode_refuses_is_read_again_tolerantly_and_flagged_as_repaired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A catalog that names /Pages twice (same length, so the offsets hold): strict mode
    refuses it, the tolerant reading accepts it with a warning, hence the flag."""
    readings = _strictness_of_each_reading(monkeypatch)
    result = inspect_file(_catalog_naming_pages_twice(), filename="a.pdf")
    assert result.pages == 1 and "PDF repaired" in result.flags
    assert readings == [True, False]


def test_leading_garbage_before_pdf_header_is_accepted_and_flagged() -> None:
    result = inspect_file(documents.junk_before_header_pdf(), filename="batch.pdf")
    assert result == InspectedFile(PDF, 1, ("leading garbage before %PDF- header",))


@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
def test_jpeg_with_broken_exif_is_accepted_quickly_and_flagged() -> None:
    started = time.perf_counter()
    result = inspect_file(documents.bogus_exif_jpeg())
    assert time.perf_counter() - started < 1
    assert result == InspectedFile(JPEG, 1, ("invalid EXIF ignored",))


# --- rejected ------------------------------------------------------------------------------


def test_empty_file_is_rejected_as_empty() -> None:
    error = rejection(b"", filename="empty.pdf")
    assert isinstance(error, EmptyFileError)
    assert (error.code, error.message) == ("empty_file", "empty.pdf: empty file")


def test_file_above_size_limit_is_rejected_as_too_large() -> None:
    error = rejection(documents.png_page(), limits=UploadLimits(max_bytes=10 * 1024))
    assert isinstance(error, FileTooLargeError)
    assert (error.code, error.message) == (
        "file_too_large",
        "file is larger than the limit of 10 KB",
    )


def test_error_message_names_the_file_and_equals_str() -> None:
    error = rejection(documents.zip_bytes(), filename="zip_renamed.pdf")
    assert str(error) == error.message == "zip_renamed.pdf: file is a ZIP archive, not a PDF"
    assert error.filename == "zip_renamed.pdf"


@pytest.mark.parametrize(
    ("data", "filename", "code", "message"),
    [
        (documents.zip_bytes(), None, "zip_archive", "file is a ZIP archive, not a PDF"),
        (documents.html_bytes(), "x.pdf", "html_document", "x.pdf: file is HTML, not a PDF"),
        (documents.plain_text_bytes(), None, "unsupported_type", "unsupported type text/plain"),
        (b"GIF89a" + bytes(64), None, "unsupported_type", "unsupported type image/gif"),
        (
            documents.wrong_header_pdf(),
            None,
            "missing_pdf_signature",
            "not a PDF (missing %PDF- signature)",
        ),
        (
            bytes(range(256)) * 4,
            "brief.pdf",
            "missing_pdf_signature",
            "brief.pdf: not a PDF (missing %PDF- signature)",
        ),
        (
            bytes(range(256)) * 4,
            None,
            "unrecognised_file_type",
            "file type not recognised — PDF, TIFF, PNG or JPEG expected",
        ),
    ],
    ids=["zip", "html", "text", "gif", "wrong_header", "binary_named_pdf", "unknown_binary"],
)
def test_content_that_is_not_an_accepted_type_is_rejected_as_unsupported(
    data: bytes, filename: str | None, code: str, message: str
) -> None:
    error = rejection(data, filename=filename)
    assert isinstance(error, UnsupportedFileTypeError)
    assert (error.code, error.message) == (code, message)


def test_zip_holding_an_uncompressed_pdf_is_still_rejected_as_zip() -> None:
    error = rejection(documents.zip_bytes(compression=zipfile.ZIP_STORED))
    assert error.code == "zip_archive"


@pytest.mark.timeout(5)
def test_truncated_pdf_is_rejected_as_damaged_without_repair_attempt() -> None:
    error = rejection(documents.truncated_pdf(), filename="truncated.pdf")
    assert isinstance(error, DamagedFileError)
    assert error.message == "truncated.pdf: PDF is damaged or truncated"


def test_encrypted_pdf_is_rejected_as_password_protected() -> None:
    error = rejection(documents.encrypted_pdf())
    assert isinstance(error, EncryptedPdfError)
    assert (error.code, error.message) == ("pdf_password_protected", "PDF is password-protected")


def test_pdf_with_unsupported_encryption_handler_is_rejected_as_encrypted() -> None:
    error = rejection(documents.certificate_encrypted_pdf())
    assert isinstance(error, EncryptedPdfError)
    assert error.code == "pdf_encryption_unsupported"
    assert error.message == "PDF is encrypted with an unsupported method"


@pytest.mark.timeout(5)
def test_pdf_cut_before_its_eof_marker_is_rejected_as_damaged() -> None:
    complete = documents.text_pdf()
    error = rejection(complete[: complete.rindex(b"%%EOF")])
    assert error.code == "pdf_damaged"


def test_pdf_with_text_appended_after_its_final_eof_is_refused_as_trailing_data() -> None:
    """Data after the final %%EOF that is no incremental update is refused (polyglots:
    ``mailroom.intake.trailing_data``), also a harmless-looking gateway footer."""
    appended = b"\n" + b"-- scanned by mail gateway --\n" * 100
    error = rejection(documents.text_pdf() + appended)
    assert error.code == "trailing_data"
    assert error.message == "file has other data hidden after the PDF's end (%%EOF)"


def test_pdf_without_pages_is_rejected() -> None:
    error = rejection(documents.zero_page_pdf())
    assert isinstance(error, NoPagesError)
    assert (error.code, error.message) == ("pdf_has_no_pages", "PDF has no pages")


@pytest.mark.parametrize(
    "data",
    [documents.text_pdf(["1", "2", "3"]), documents.tiff_pages(3)],
    ids=["pdf", "tiff"],
)
def test_document_above_page_limit_is_rejected_with_both_numbers(data: bytes) -> None:
    error = rejection(data, limits=UploadLimits(max_pages=2))
    assert isinstance(error, TooManyPagesError)
    assert (error.code, error.message) == ("too_many_pages", "too many pages (3 > limit 2)")


@pytest.mark.timeout(5)
def test_decompression_bomb_png_is_rejected_from_its_header() -> None:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    error = rejection(documents.bomb_png(30_000, 30_000))
    assert isinstance(error, ImageTooLargeError)
    assert error.code == "image_too_large"
    assert error.message == "image too large (30000×30000 px, limit 100 MP)"
    assert pillow_limit == Image.MAX_IMAGE_PIXELS  # the global limit stays untouched


def test_image_above_configured_pixel_limit_is_rejected_with_its_dimensions() -> None:
    error = rejection(documents.jpeg_page(), limits=UploadLimits(max_pixels=1_000_000))
    assert isinstance(error, ImageTooLargeError)
    assert error.message == "image too large (1240×1754 px, limit 1 MP)"


def test_pdf_page_with_a_huge_image_is_rejected_as_too_large() -> None:
    error = rejection(documents.huge_image_pdf(35_000, 35_000))
    assert isinstance(error, ImageTooLargeError)
    assert error.message == "image too large (page 1: 35000×35000 px, limit 100 MP)"


def test_one_pixel_image_is_rejected_as_too_small_for_a_letter() -> None:
    error = rejection(documents.one_pixel_png())
    assert isinstance(error, ImageTooSmallError)
    assert (error.code, error.message) == (
        "image_too_small",
        "image too small to contain a letter (1×1 px)",
    )


@pytest.mark.timeout(5)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize(
    "data",
    [documents.truncated_png(), documents.truncated_jpeg(), documents.truncated_tiff()],
    ids=["png", "jpeg", "tiff"],
)
def test_truncated_image_is_rejected_as_damaged(data: bytes) -> None:
    error = rejection(data, filename="scan")
    assert isinstance(error, DamagedFileError)
    assert (error.code, error.message) == ("image_damaged", "scan: image is damaged or truncated")


def test_the_letters_library_leaves_pillow_refusing_truncated_images() -> None:
    """WeasyPrint (rendering our letters) turns on Pillow's LOAD_TRUNCATED_IMAGES when it is
    imported; a process that renders letters must still reject damaged scans."""
    from PIL import ImageFile

    from letters.pdf import _weasyprint

    _weasyprint()  # where the letters library imports WeasyPrint (on first use)
    import weasyprint  # noqa: F401

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    error = rejection(documents.truncated_jpeg(), filename="scan")
    assert isinstance(error, DamagedFileError)
