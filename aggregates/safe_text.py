"""Text that is safe to keep in an event: what may and may not be in a stored string.

Events are forever and every read model must be able to hold them, on SQLite and on
PostgreSQL (whose text columns cannot contain NUL). So text from outside is normalised
where it enters (Unicode NFC, uniform line ends, invisible direction overrides removed) and
refused when it carries control characters, lone surrogates or non-characters; file names
and extracted text are repaired instead of refused, because they are not typed by a person.
"""

from __future__ import annotations

import re
import unicodedata

# Direction overrides and isolates make "rechnung‮fdp.exe" look like "rechnungexe.pdf";
# zero-width and byte-order marks are invisible. None carries meaning in a letter.
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]")
_LINE_ENDS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_MAX_FILENAME = 255


def _forbidden(char: str, keep: str) -> bool:
    if char in keep:
        return False
    code = ord(char)
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):  # control characters (NUL included), lone surrogates
        return True
    return (0xFDD0 <= code <= 0xFDEF) or (code & 0xFFFE) == 0xFFFE  # non-characters


def first_forbidden(value: str, keep: str = "\n") -> str | None:
    """A description of the first character that must not be stored, or None."""
    for char in value:
        if _forbidden(char, keep):
            return f"U+{ord(char):04X}"
    return None


def normalise(value: str, *, multiline: bool = False) -> str:
    """NFC, line ends as \\n, tabs as spaces, invisible overrides removed, ends stripped;
    a single-line value also gets its line breaks turned into spaces."""
    text = unicodedata.normalize("NFC", value)
    text = _INVISIBLE.sub("", _LINE_ENDS.sub("\n", text)).replace("\t", " ")
    if not multiline:
        text = " ".join(text.split("\n"))
    return text.strip()


def strip_forbidden(value: str, keep: str = "\n\t\f") -> str:
    """``value`` without the characters that must not be stored (for machine-made text)."""
    if first_forbidden(value, keep) is None:
        return value
    return "".join(char for char in value if not _forbidden(char, keep))


def safe_filename(name: str | None) -> str | None:
    """A file name as shown to clerks: no folders, controls or overrides, at most 255 chars."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    cleaned = strip_forbidden(normalise(base), keep="")
    if len(cleaned) > _MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = stem[: _MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:_MAX_FILENAME]
    return cleaned or None


def view_text(value: str | None, max_length: int) -> str | None:
    """Text for a read-model column: storable on every backend and no longer than it."""
    if value is None:
        return None
    return strip_forbidden(value)[:max_length]
