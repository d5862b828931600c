"""What a person types into the search box, made safe for each full-text engine.

The syntax is that of PostgreSQL's ``websearch_to_tsquery`` (which takes any input without
raising): words are all required, ``"quoted words"`` form a phrase, ``OR`` between words
means either, ``-word`` excludes. For SQLite FTS5 every word becomes a quoted string (so
``*``, ``:``, ``^``, ``NEAR``, parentheses and quotes are never syntax) with a light German
suffix stripping and a prefix match ("Anträge" → ``"antrag" *``, which also finds "Antrag").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aggregates.safe_text import strip_forbidden

MAX_QUERY = 500
HIT_START = "\ue000"  # markers the engines put around hits; removed from indexed text
HIT_STOP = "\ue001"
_TOKENS = re.compile(r'"[^"]*"?|\S+')
_WORDS = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ern", "en", "er", "es", "e", "n", "s")
_MIN_STEM = 4


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    negated: bool = False
    or_before: bool = False  # joined to the previous positive term by OR


def clean_query(q: str) -> str:
    """The query without characters no database may see (NUL, controls), bounded."""
    return " ".join(strip_forbidden(q, keep="").split())[:MAX_QUERY]


def parse(q: str) -> list[Term]:
    terms: list[Term] = []
    pending_or = False
    for token in _TOKENS.findall(clean_query(q)):
        if token == "OR":  # noqa: S105 - the search operator, no secret
            pending_or = bool(terms)
            continue
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        words = tuple(_WORDS.findall(body))
        if not words:
            continue
        terms.append(Term(words, negated, pending_or and not negated))
        pending_or = False
    return terms


def highlight_terms(q: str) -> list[str]:
    """The words to highlight in a text for this query (not the excluded ones), in order."""
    seen: dict[str, None] = {}
    for term in parse(q):
        if not term.negated:
            for word in term.words:
                seen.setdefault(word, None)
    return list(seen)


def _stem(word: str) -> str:
    lowered = word.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix) and len(lowered) - len(suffix) >= _MIN_STEM:
            return lowered[: -len(suffix)]
    return lowered


def _fts_string(words: tuple[str, ...], prefix: bool) -> str:
    if len(words) == 1:
        text = _stem(words[0]) if prefix else words[0]
        return '"' + text.replace('"', '""') + '"' + (" *" if prefix else "")
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def fts5_query(q: str) -> str | None:
    """An FTS5 MATCH expression for ``q``; None when nothing is left to search for."""
    terms = parse(q)
    positives = [t for t in terms if not t.negated]
    if not positives:
        return None
    expression = ""
    for term in positives:
        part = _fts_string(term.words, prefix=True)
        if expression:
            expression += (" OR " if term.or_before else " AND ") + part
        else:
            expression = part
    negatives = [_fts_string(t.words, prefix=False) for t in terms if t.negated]
    if negatives:
        expression = f"({expression}) NOT ({' OR '.join(negatives)})"
    return expression


def has_terms(q: str) -> bool:
    return any(not t.negated for t in parse(q))
