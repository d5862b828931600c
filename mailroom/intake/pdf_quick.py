"""The common PDF upload read with qpdf (pikepdf): well-formed, not encrypted, no repair.

Nearly every upload is such a file, and qpdf, in C++, opens it and walks its pages in a
fraction of pypdf's time: the whole check of the benchmark's one-page letter takes 0.13–0.15
ms of CPU instead of 0.33–0.45 (``bench/intake_parts.py``). The findings come from the same walks
(``pdf_structure``) as pypdf's, over qpdf's objects. Anything qpdf does not read cleanly —
an error, a warning (a repair it would make), encryption, bytes before the header — gives
None, and pypdf's readings decide as before (``pdf_inspection``): that is where repairs
are flagged and encryption is judged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pikepdf

from mailroom.intake.content import Content
from mailroom.intake.inspection_errors import RejectedFileError
from mailroom.intake.pdf_structure import (
    Findings,
    check_page_images,
    checked_page_count,
    content_flags,
    dictionary,
)

if TYPE_CHECKING:
    from mailroom.intake.inspection import UploadLimits


def read_cleanly(
    content: Content, header_offset: int, limits: UploadLimits, filename: str | None
) -> Findings | None:
    """The findings of a PDF that qpdf reads without a warning, or None (pypdf decides).

    A finding that rejects the file (too many pages, an oversized image) is raised."""
    if header_offset:
        return None
    try:
        with (
            content.open() as body,
            pikepdf.open(body, attempt_recovery=False, inherit_page_attributes=False) as pdf,
        ):
            if pdf.is_encrypted or pdf.get_warnings():
                return None
            findings = _inspect(pdf, limits, filename)
            return None if pdf.get_warnings() else findings
    except RejectedFileError:
        raise
    except Exception:  # whatever qpdf refuses (or a walk trips over): pypdf decides
        return None


def _inspect(pdf: pikepdf.Pdf, limits: UploadLimits, filename: str | None) -> Findings:
    catalog = dictionary(pdf.Root)
    declared = dictionary(catalog.get("/Pages")).get("/Count")
    pages = checked_page_count(declared, lambda: len(pdf.pages), limits, filename)
    page_dictionaries = [dictionary(page.obj) for page in pdf.pages]
    for number, page in enumerate(page_dictionaries, start=1):
        check_page_images(dictionary, page, number, limits, filename)
    return pages, content_flags(catalog, page_dictionaries)
