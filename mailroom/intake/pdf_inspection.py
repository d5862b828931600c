"""Inspection of PDF uploads: structure only, no page is ever rendered or decoded.

Checks, in order: a readable end of file (so truncated files are rejected without a repair
attempt), encryption (the empty user password is tried, nothing else), the page count, and
then the document is scanned for active content, attachments and oversized page images.
A file whose end looks intact is read by qpdf first (``pdf_quick``: the common, well-formed
upload); what qpdf does not read cleanly is read in pypdf's strict mode, and what strict
mode refuses or warns about again in non-strict mode, whose repairs are detected from the
warnings it logs.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pypdf import PasswordType, PdfReader
from pypdf.errors import LimitReachedError, ParseError, PdfReadError

from mailroom.intake.content import Content
from mailroom.intake.inspection_errors import (
    DamagedFileError,
    EncryptedPdfError,
    PdfTooComplexError,
    RejectedFileError,
)
from mailroom.intake.pdf_quick import read_cleanly
from mailroom.intake.pdf_structure import (
    Findings,
    RawReader,
    check_page_images,
    checked_page_count,
    content_flags,
    dictionary,
    pypdf_stream_dictionary,
    resolve,
)

if TYPE_CHECKING:
    from mailroom.intake.inspection import UploadLimits

FLAG_REPAIRED = "PDF repaired"
FLAG_RESTRICTED = "PDF permissions restricted (opened without password)"
PDF_DAMAGED = "PDF is damaged or truncated"

# What pypdf raises for malformed structures in non-strict mode besides its own errors.
_PDF_PARSING_ERRORS = (
    PdfReadError,
    ParseError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    RecursionError,
)
_EOF_WINDOW = 1024
# pypdf checks every uncompressed object when opening (~7 µs each) and parses every
# object when it has to rebuild the xref (~15 µs each); these caps bound both.
_MAX_OBJECTS = 100_000
_MAX_OBJECTS_TO_REPAIR = 20_000
_STARTXREF = re.compile(rb"startxref\s+(\d{1,15})")
_XREF_TARGET = re.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")
_XREF_IN_USE_ENTRY = re.compile(rb"(\d{10}) \d{5} n")
_OBJECT_HEADER = re.compile(rb"\s*\d+\s+\d+\s+obj")
_XREF_SAMPLE_ENTRIES = 8
_XREF_SAMPLE_BYTES = 1024
_XREF_WINDOW = 4096  # leading whitespace, the xref header and the sampled entries
_HEADER_WINDOW = 64


class _PypdfWarnings(logging.Handler):
    """pypdf reports what it repaired as log warnings (of its ``pypdf.*`` loggers): they are
    collected for the thread that inspects, whatever the process's logging configuration
    says. The ``pypdf`` logger is kept at WARNING — a root level of ERROR would drop its
    warnings before any handler saw them, and repaired files would pass as clean — and
    does not propagate: this handler passes a record on to the root's handlers only if the
    root level lets it, as propagation would have."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()
        self.passed_on = True

    @contextmanager
    def collected(self) -> Iterator[list[str]]:
        """Yield the list that receives this thread's pypdf warnings while the block runs."""
        messages: list[str] = []
        outer = getattr(self._local, "messages", None)
        self._local.messages = messages
        try:
            yield messages
        finally:
            self._local.messages = outer

    def handle(self, record: logging.LogRecord) -> bool:  # no handler lock: nothing shared
        messages = getattr(self._local, "messages", None)
        if messages is not None:
            messages.append(record.getMessage())
        root = logging.getLogger()
        # Unconfigured logging (no root handler: a worker process of the OCR pool, which
        # hands its records to its parent) would print them raw through logging's last
        # resort: nothing then.
        if self.passed_on and root.handlers and record.levelno >= root.getEffectiveLevel():
            root.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # logging calls handle(), above
        self.handle(record)


_PYPDF_WARNINGS = _PypdfWarnings()
_PYPDF_LOGGER = logging.getLogger("pypdf")
_PYPDF_LOGGER.setLevel(logging.WARNING)
_PYPDF_LOGGER.propagate = False
_PYPDF_LOGGER.addHandler(_PYPDF_WARNINGS)
_pypdf_warnings = _PYPDF_WARNINGS.collected


@contextmanager
def pypdf_warnings_hidden() -> Iterator[None]:
    """pypdf's warnings are still collected for the inspection but not logged (``mailroom
    ocr``, where they are noise on the output)."""
    _PYPDF_WARNINGS.passed_on = False
    try:
        yield
    finally:
        _PYPDF_WARNINGS.passed_on = True


def _xref_looks_valid(content: Content, start: int, offset: int) -> bool:
    """startxref points at an xref section whose first entries point at object headers."""
    window = content.read_at(start + offset, _XREF_WINDOW) if offset < content.size else b""
    target = _XREF_TARGET.match(window)
    if target is None:
        return False
    if target.group(1) != b"xref":
        return True  # a cross-reference stream; its entries are compressed
    entries = _XREF_IN_USE_ENTRY.finditer(window, target.end(), target.end() + _XREF_SAMPLE_BYTES)
    return all(
        _OBJECT_HEADER.match(content.read_at(start + int(entry.group(1)), _HEADER_WINDOW))
        for entry in itertools.islice(entries, _XREF_SAMPLE_ENTRIES)
    )


def _end_of_file_state(content: Content, start: int, objects: int) -> str:
    """'clean', 'needs_repair' or 'damaged', decided without parsing the document.

    A file whose xref is unusable makes pypdf rebuild it by parsing every object. That is
    allowed only if %%EOF is near the end (the file is complete) and the number of objects
    keeps the rebuild cheap; a truncated file is never handed to the repair.
    """
    has_eof_marker = b"%%EOF" in content.tail(_EOF_WINDOW)
    position = content.rfind(b"startxref", start)
    match = _STARTXREF.match(content.read_at(position, _HEADER_WINDOW)) if position >= 0 else None
    if match is not None and _xref_looks_valid(content, start, int(match.group(1))):
        return "clean" if has_eof_marker else "needs_repair"
    if has_eof_marker and objects <= _MAX_OBJECTS_TO_REPAIR:
        return "needs_repair"
    return "damaged"


def _damaged(filename: str | None) -> DamagedFileError:
    return DamagedFileError(PDF_DAMAGED, filename=filename, code="pdf_damaged")


def _unsupported_feature(content: Content, filename: str | None) -> RejectedFileError:
    """pypdf raises NotImplementedError for encryption handlers and filters it lacks."""
    if content.count(b"/Encrypt"):
        problem = "PDF is encrypted with an unsupported method"
        return EncryptedPdfError(problem, filename=filename, code="pdf_encryption_unsupported")
    problem = "PDF uses a feature that cannot be read"
    return DamagedFileError(problem, filename=filename, code="pdf_unsupported_feature")


def _encryption_flags(reader: PdfReader, filename: str | None) -> list[str]:
    """Accept only PDFs that open with the empty user password; never try other passwords."""
    if not reader.is_encrypted:
        return []
    if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise EncryptedPdfError("PDF is password-protected", filename=filename)
    return [FLAG_RESTRICTED]


def _inspect_document(
    reader: PdfReader, raw: RawReader, limits: UploadLimits, filename: str | None
) -> Findings:
    flags = _encryption_flags(reader, filename)
    catalog = dictionary(reader.trailer.get("/Root"))
    declared = resolve(dictionary(catalog.get("/Pages")).get("/Count"))
    pages = checked_page_count(declared, lambda: len(reader.pages), limits, filename)

    def stream_dictionary(value: object) -> dict[object, object]:
        return pypdf_stream_dictionary(reader, raw, value)

    for number, page in enumerate(reader.pages, start=1):
        check_page_images(stream_dictionary, page, number, limits, filename)
    flags += content_flags(catalog, reader.pages)
    return pages, flags


def _strictly_read(
    content: Content, header_offset: int, raw: RawReader, limits: UploadLimits, filename: str | None
) -> Findings | None:
    """The findings of a file that pypdf reads in strict mode without a warning, or None.

    A well-formed file (nearly every upload) needs none of the tolerance of non-strict mode,
    whose opening also reads the header of every object in the cross-reference table
    (10–20 % of the inspection's time for a one-page letter). What strict mode refuses or
    warns about is read again tolerantly by the caller, which then decides (and flags a
    repair): a finding (encrypted, too many pages, an oversized image) is the same in
    either mode.
    """
    with _pypdf_warnings() as warnings, content.open(header_offset) as body:
        try:
            findings = _inspect_document(PdfReader(body, strict=True), raw, limits, filename)
        except RejectedFileError:
            raise
        except Exception:  # whatever strict mode refuses: the tolerant reading decides
            return None
    return None if warnings else findings


def inspect_pdf(
    content: Content, header_offset: int, limits: UploadLimits, filename: str | None
) -> Findings:
    """Open the PDF starting at its ``%PDF-`` header and report page count and flags."""
    objects = content.count(b" obj", header_offset)  # uncompressed objects, roughly
    if objects > _MAX_OBJECTS:
        raise PdfTooComplexError(
            f"PDF has too many objects ({objects} > limit {_MAX_OBJECTS})", filename=filename
        )
    end_state = _end_of_file_state(content, header_offset, objects)
    if end_state == "damaged":
        raise _damaged(filename)

    def raw(offset: int, length: int) -> bytes:
        return content.read_at(header_offset + offset, length)

    if end_state == "clean":
        quick = read_cleanly(content, header_offset, limits, filename)
        if quick is not None:
            return quick
        strict = _strictly_read(content, header_offset, raw, limits, filename)
        if strict is not None:
            return strict
    with _pypdf_warnings() as repair_warnings, content.open(header_offset) as body:
        try:
            reader = PdfReader(body, strict=False)
            pages, flags = _inspect_document(reader, raw, limits, filename)
        except RejectedFileError:
            raise
        except NotImplementedError as error:
            raise _unsupported_feature(content, filename) from error
        except LimitReachedError as error:
            problem = "PDF structure exceeds safety limits (too large, too deep or cyclic)"
            raise DamagedFileError(
                problem, filename=filename, code="pdf_limits_exceeded"
            ) from error
        except _PDF_PARSING_ERRORS as error:
            raise _damaged(filename) from error
    if repair_warnings or end_state == "needs_repair":
        flags.insert(0, FLAG_REPAIRED)
    return pages, flags
