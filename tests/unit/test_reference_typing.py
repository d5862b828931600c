"""References as citizens type them from a letter or a phone: the status page must find them."""

import random

import pytest

from aggregates.reference import InvalidReferenceError, Reference


def _reference(seed: int) -> Reference:
    rng = random.Random(seed)
    return Reference.generate("LIN", 2026, lambda n: bytes(rng.randrange(256) for _ in range(n)))


@pytest.mark.parametrize(
    "typed",
    [
        lambda r: r.lower(),
        lambda r: r.replace("-", " "),
        lambda r: r.replace("-", ""),
        lambda r: " ".join(r.replace("-", "")),  # a space between every character
        lambda r: r.replace("-", "\u2013"),  # en dash (phones turn "-" into it)
        lambda r: r.replace("-", "\u00a0"),  # no-break space from a copied letter
        lambda r: r.replace("0", "O").replace("1", "I").lower(),
        lambda r: "\uff2c\uff29\uff2e" + r[3:],  # full-width LIN
        lambda r: f"  {r}\n",
    ],
)
def test_typing_variants_parse_to_the_reference(typed):
    for seed in range(5):
        reference = _reference(seed)
        assert Reference.parse(typed(str(reference)), "LIN") == reference


def test_a_typo_is_still_refused_however_it_is_spaced():
    text = str(_reference(1))
    wrong = text[:-1] + ("A" if text[-1] != "A" else "B")
    with pytest.raises(InvalidReferenceError):
        Reference.parse(" ".join(wrong), "LIN")


def test_a_reference_with_a_character_too_many_is_refused():
    with pytest.raises(InvalidReferenceError, match="is not a reference"):
        Reference.parse(str(_reference(2)) + "X", "LIN")
