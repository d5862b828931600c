"""Passwords of local staff accounts (mailroom/auth/passwords.py)."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from argon2 import PasswordHasher

from mailroom.auth.passwords import (
    READABLE_CHARACTERS,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
    verify_unknown,
)


def test_a_hashed_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password("Rathaus-2024!")

    assert verify_password(stored, "Rathaus-2024!")
    assert not verify_password(stored, "rathaus-2024!")
    assert not verify_password(stored, "")


def test_hashes_are_argon2id_salted_and_never_contain_the_password() -> None:
    first, second = hash_password("geheim"), hash_password("geheim")

    assert first.startswith("$argon2id$")
    assert first != second
    assert "geheim" not in first


@pytest.mark.parametrize(
    "damaged",
    ["", "geheim", "$argon2id$v=19$m=65536,t=3,p=4$broken", "$2b$12$" + "a" * 53],
)
def test_a_malformed_hash_is_a_failed_check_not_an_exception(damaged: str) -> None:
    assert verify_password(damaged, "geheim") is False


def test_a_fresh_hash_needs_no_rehash_but_weaker_or_damaged_ones_do() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("geheim")

    assert not needs_rehash(hash_password("geheim"))
    assert needs_rehash(weak)
    assert verify_password(weak, "geheim")  # still verifies, so it can be upgraded
    assert needs_rehash("not a hash")


def test_an_unknown_login_costs_as_much_time_as_a_real_check() -> None:
    """GIVEN a stored hash WHEN a wrong password is checked for a real and an unknown login
    THEN both take about as long (a skipped check would take microseconds)."""
    stored = hash_password("geheim")
    verify_unknown("warm-up")

    def median_seconds(check: object) -> float:
        durations = []
        for _ in range(3):
            started = time.perf_counter()
            check("falsch")  # type: ignore[operator]
            durations.append(time.perf_counter() - started)
        return statistics.median(durations)

    real = median_seconds(lambda pw: verify_password(stored, pw))
    unknown = median_seconds(verify_unknown)

    assert verify_unknown("geheim") is False
    assert unknown > real / 3


def test_generated_passwords_are_readable_groups_of_unambiguous_characters() -> None:
    passwords = {generate_password() for _ in range(200)}

    assert len(passwords) == 200
    for password in passwords:
        assert re.fullmatch(r"[a-z2-9]{5}(-[a-z2-9]{5}){3}", password), password
        assert set(password.replace("-", "")) <= set(READABLE_CHARACTERS)
        assert not set(password) & set("01ilo")


def test_a_generated_password_can_be_hashed_and_verified() -> None:
    password = generate_password()

    assert verify_password(hash_password(password), password)
