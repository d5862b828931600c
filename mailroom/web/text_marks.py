"""Search hits in a text, marked for a page: ``<mark>`` around every word that starts with a
term, everything else escaped (the text is split first, so no term can ever match inside
markup or an entity)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

_MAX_TERMS = 20
_MARK = Markup("<mark>{}</mark>")
_EMPTY = Markup("")


def hit_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """Words beginning with one of ``terms``, case-insensitively; None without terms."""
    words = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)[:_MAX_TERMS]
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


def mark_hits(text: str, terms: Sequence[str]) -> tuple[Markup, int]:
    """``text`` as safe HTML with its hits in ``<mark>``, and how many there are."""
    pattern = hit_pattern(terms)
    if pattern is None:
        return escape(text), 0
    parts: list[Markup] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(_MARK.format(match.group(0)))  # format() escapes the hit
        position = match.end()
    parts.append(escape(text[position:]))
    return _EMPTY.join(parts), (len(parts) - 1) // 2
