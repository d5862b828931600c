from uuid import uuid4

from aggregates.access_code import (
    AccessCodeKeys,
    access_code_matches,
    derive_access_code,
    hash_access_code,
)


def test_the_same_item_always_gets_the_same_code_under_one_secret():
    item_id = uuid4()
    assert derive_access_code(b"s1", item_id) == derive_access_code(b"s1", item_id)
    assert derive_access_code(b"s1", item_id) != derive_access_code(b"s2", item_id)


def test_a_code_matches_its_hash_however_it_is_typed():
    code = derive_access_code(b"secret", uuid4())
    stored = hash_access_code("LIN-2026-AAAA-BBBB", code)
    assert code not in stored
    assert access_code_matches("LIN-2026-AAAA-BBBB", code.lower().replace("-", " "), stored)
    assert not access_code_matches("LIN-2026-AAAA-BBBB", "0000-0000-0000", stored)
    assert not access_code_matches("LIN-2026-AAAA-CCCC", code, stored)


def test_the_key_ring_issues_under_the_current_key_and_finds_codes_of_older_keys():
    item_id = uuid4()
    old_code = derive_access_code(b"old", item_id)
    stored = hash_access_code("LIN-2026-AAAA-BBBB", old_code)
    ring = AccessCodeKeys(b"new", [b"older", b"old"])
    assert ring.issue(item_id) == derive_access_code(b"new", item_id)
    assert ring.original(item_id, "LIN-2026-AAAA-BBBB", stored) == old_code
    assert AccessCodeKeys(b"new").original(item_id, "LIN-2026-AAAA-BBBB", stored) is None
