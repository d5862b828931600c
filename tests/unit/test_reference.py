import random

import pytest

from aggregates.reference import ALPHABET, InvalidReferenceError, Reference, is_valid


def fixed_bytes(seed: int):
    rng = random.Random(seed)
    return lambda n: bytes(rng.randrange(256) for _ in range(n))


def test_a_generated_reference_has_the_documented_shape():
    reference = Reference.generate("LIN", 2026, fixed_bytes(1))
    text = str(reference)
    assert text.startswith("LIN-2026-")
    assert len(text) == len("LIN-2026-7K3F-92QD")
    assert is_valid(text, "LIN")


def test_people_may_type_it_in_lower_case_with_look_alike_letters():
    reference = Reference.generate("LIN", 2026, fixed_bytes(2))
    typed = str(reference).lower().replace("0", "o").replace("1", "l").replace("-", " ")
    assert Reference.parse(typed, "LIN") == reference


@pytest.mark.parametrize("seed", range(40))
def test_every_single_wrong_character_is_detected(seed):
    body = Reference.generate("LIN", 2026, fixed_bytes(seed)).body
    for position in range(len(body)):
        for char in ALPHABET:
            if char == body[position] or (position < 4 and not char.isdigit()):
                continue
            changed = body[:position] + char + body[position + 1 :]
            assert not is_valid(f"LIN-{changed[:4]}-{changed[4:8]}-{changed[8:]}")


@pytest.mark.parametrize("seed", range(40))
def test_every_swapped_adjacent_pair_is_detected(seed):
    body = Reference.generate("LIN", 2026, fixed_bytes(seed)).body
    for position in range(len(body) - 1):
        a, b = body[position], body[position + 1]
        if a == b:
            continue
        swapped = body[:position] + b + a + body[position + 2 :]
        assert not is_valid(f"LIN-{swapped[:4]}-{swapped[4:8]}-{swapped[8:]}")


def test_a_reference_with_another_prefix_is_refused():
    reference = Reference.generate("LIN", 2026, fixed_bytes(3))
    with pytest.raises(InvalidReferenceError, match="does not start with"):
        Reference.parse(str(reference).replace("LIN", "ABC"), "LIN")


def test_garbage_is_not_a_reference():
    with pytest.raises(InvalidReferenceError, match="is not a reference"):
        Reference.parse("hello world")
