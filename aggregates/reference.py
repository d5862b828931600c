"""Human-typeable references such as ``LIN-2026-7K3F-92QD``.

Layout: city prefix, year, seven random Crockford base-32 characters and one check
character. The check character is chosen so that the weighted sum of all characters over
GF(32) is zero, with a distinct non-zero weight per position. Distinct weights mean that
any single wrong character and any swap of two characters (adjacent or not) changes the
sum, so such typos and OCR slips are always detected.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Characters people (and OCR) substitute for look-alikes, as Crockford's decoding allows.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
RANDOM_LENGTH = 7
_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)

_EXP: list[int] = []
_LOG: dict[int, int] = {}
_x = 1
for _i in range(31):
    _EXP.append(_x)
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0b100000:
        _x ^= _POLY


def _multiply(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 31]


def _weighted_sum(values: list[int]) -> int:
    """Sum over GF(32) of value * alpha^(n - 1 - i); the last position has weight alpha^0 = 1."""
    total = 0
    n = len(values)
    for i, value in enumerate(values):
        total ^= _multiply(value, _EXP[(n - 1 - i) % 31])
    return total


def check_character(body: str) -> str:
    """The check character for ``body`` (year and random part, without separators)."""
    values = [_VALUE[c] for c in body]
    return ALPHABET[_weighted_sum([*values, 0])]


class InvalidReferenceError(ValueError):
    """The text is not a well-formed reference, or its check character does not match."""


@dataclass(frozen=True)
class Reference:
    prefix: str
    year: int
    code: str  # 8 characters: 7 random + 1 check

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year:04d}-{self.code[:4]}-{self.code[4:]}"

    @property
    def body(self) -> str:
        return f"{self.year:04d}{self.code}"

    @classmethod
    def generate(
        cls, prefix: str, year: int, random_bytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> Reference:
        raw = random_bytes(RANDOM_LENGTH)
        random_part = "".join(ALPHABET[b % 32] for b in raw)
        check = check_character(f"{year:04d}{random_part}")
        return cls(prefix=prefix, year=year, code=random_part + check)

    @classmethod
    def parse(cls, text: str, prefix: str | None = None) -> Reference:
        """Parse a reference as a person might type it: any case, look-alike letters
        (O for 0, I/L for 1), full-width characters, and spaces, hyphens or dashes as
        separators anywhere (``lin 2026 7k 3f 92 qd``, ``LIN–2026–7K3F–92QD``)."""
        compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
        match = _PATTERN.fullmatch(compact)
        if match is None:
            raise InvalidReferenceError(f"{text!r} is not a reference like LIN-2026-7K3F-92QD")
        found_prefix = match["prefix"]
        if prefix is not None and found_prefix != prefix.upper():
            raise InvalidReferenceError(f"{text!r} does not start with {prefix}")
        year = match["year"].translate(_LOOKALIKES)
        code = (match["a"] + match["b"]).translate(_LOOKALIKES)
        if not year.isdigit() or any(c not in _VALUE for c in code):
            raise InvalidReferenceError(f"{text!r} contains characters a reference cannot have")
        values = [_VALUE[c] for c in year + code]
        if _weighted_sum(values) != 0:
            raise InvalidReferenceError(f"{text!r} has a wrong check character (typo?)")
        return cls(prefix=found_prefix, year=int(year), code=code)


# Whitespace (also no-break spaces), hyphens and the dashes phones put in for them, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._]+")
_PATTERN = re.compile(
    r"(?P<prefix>[A-Z]{2,5})(?P<year>[0-9OIL]{4})(?P<a>[0-9A-Z]{4})(?P<b>[0-9A-Z]{4})"
)


def is_valid(text: str, prefix: str | None = None) -> bool:
    try:
        Reference.parse(text, prefix)
    except InvalidReferenceError:
        return False
    return True
