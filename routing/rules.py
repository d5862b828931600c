"""Administrator rules from the catalog: phrases that decide before the classifier does."""

from __future__ import annotations

from collections.abc import Sequence

from routing.catalog import Rule
from routing.text import STOPWORDS, Token, phrase_keys


def matching_rule(rules: Sequence[Rule], tokens: Sequence[Token]) -> Rule | None:
    """The first rule (in catalog order) one of whose ``any`` phrases and all of whose ``all``
    phrases occur in the letter, matched by lemma."""
    keys = [t.key for t in tokens if not t.is_stopword]
    for rule in rules:
        if any(_occurs(p, keys) for p in rule.any_of) and all(
            _occurs(p, keys) for p in rule.all_of
        ):
            return rule
    return None


def _occurs(phrase: str, keys: Sequence[str]) -> bool:
    words = [k for k in phrase_keys(phrase) if k not in STOPWORDS]
    if not words:
        return False
    return any(
        list(keys[start : start + len(words)]) == words
        for start in range(len(keys) - len(words) + 1)
    )
