"""Errors raised by the intake's file inspection.

Every error names the problem in plain English (``message``) and carries a stable,
machine-readable ``code`` the HTTP layer and the UI can rely on. The subclasses let the
HTTP layer choose the status code (413 for size, 415 for type, 422 for the rest).
"""

from __future__ import annotations

import re

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_MAX_SHOWN_NAME_LENGTH = 200


def printable_name(name: str) -> str:
    """Return ``name`` without control characters, shortened for messages and flags."""
    cleaned = _CONTROL_CHARACTERS.sub("", name).strip()
    if len(cleaned) > _MAX_SHOWN_NAME_LENGTH:
        return cleaned[: _MAX_SHOWN_NAME_LENGTH - 1] + "…"
    return cleaned


class RejectedFileError(ValueError):
    """An uploaded file that must not be stored; ``str(error)`` is ``error.message``."""

    default_code = "rejected_file"

    def __init__(self, problem: str, *, filename: str | None = None, code: str | None = None):
        self.problem = problem
        self.filename = printable_name(filename) if filename else None
        self.code = code or self.default_code
        self.message = f"{self.filename}: {problem}" if self.filename else problem
        super().__init__(self.message)


class EmptyFileError(RejectedFileError):
    """The upload has no content at all."""

    default_code = "empty_file"


class FileTooLargeError(RejectedFileError):
    """The upload exceeds the configured size limit (HTTP 413)."""

    default_code = "file_too_large"


class UnsupportedFileTypeError(RejectedFileError):
    """The content is not a PDF, TIFF, PNG or JPEG (HTTP 415)."""

    default_code = "unsupported_file_type"


class DamagedFileError(RejectedFileError):
    """The file has the right type but is truncated or corrupt."""

    default_code = "damaged_file"


class EncryptedPdfError(RejectedFileError):
    """The PDF needs a password to be opened; passwords are never guessed."""

    default_code = "pdf_password_protected"


class NoPagesError(RejectedFileError):
    """The PDF is well-formed but its page tree is empty."""

    default_code = "pdf_has_no_pages"


class TooManyPagesError(RejectedFileError):
    """The document has more pages than one mail item may have."""

    default_code = "too_many_pages"


class PdfTooComplexError(RejectedFileError):
    """A PDF with so many objects that even reading its structure would be slow."""

    default_code = "pdf_too_complex"


class ImageTooLargeError(RejectedFileError):
    """A page would decode to more pixels than allowed (decompression bomb guard)."""

    default_code = "image_too_large"


class ImageTooSmallError(RejectedFileError):
    """An image too small to hold a letter page."""

    default_code = "image_too_small"
