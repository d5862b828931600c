"""Failures of the machine rather than of the letter.

A full disk, exhausted memory or file handles, or a missing Tesseract binary say nothing about
the document: they must reach the caller unchanged, so that it retries later instead of
sending the letter to triage. Everything else that goes wrong while reading is the file's.
"""

from __future__ import annotations

import errno

from pytesseract import pytesseract

_RESOURCE_ERRNOS = frozenset(
    {
        errno.ENOSPC,  # disk full
        errno.EDQUOT,  # quota exceeded
        errno.ENOMEM,  # e.g. no memory to start Tesseract
        errno.EMFILE,  # too many open files in this process
        errno.ENFILE,  # ... or in the system
        errno.EIO,  # the disk under the work directory fails
        errno.EROFS,  # work directory on a read-only file system
        errno.EACCES,  # work directory not writable (the engine only opens its own files)
    }
)


class TesseractMissingError(Exception):
    """Carries ``TesseractNotFoundError`` out of a worker process (that class cannot be
    unpickled: its ``__init__`` takes no message, so the pool would report a dead worker)."""


def is_environment_error(exc: BaseException) -> bool:
    """True for failures that are about this machine, not about the file being read."""
    if isinstance(exc, MemoryError | pytesseract.TesseractNotFoundError | TesseractMissingError):
        return True
    return isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRNOS


def portable(exc: BaseException) -> BaseException:
    """``exc`` in a form that survives the trip from a worker process to the caller."""
    if isinstance(exc, pytesseract.TesseractNotFoundError):
        return TesseractMissingError(str(exc))
    return exc


def restored(exc: BaseException) -> BaseException:
    """The exception :func:`portable` stood in for, as the caller should see it."""
    if isinstance(exc, TesseractMissingError):
        missing: BaseException = pytesseract.TesseractNotFoundError()
        return missing
    return exc
