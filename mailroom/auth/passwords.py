"""Passwords of local staff accounts: argon2id hashes, generated initial passwords.

``verify_password`` never raises for a wrong password or a damaged hash, so a sign-in form
can treat every failure alike. ``verify_unknown`` spends the same time as a real check, so
that the answer time of a sign-in does not tell which logins exist.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Lower-case letters and digits without the look-alikes 0/o, 1/l/i: easy to read out and type.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 4
GROUP_LENGTH = 5  # 20 random characters, about 99 bits

_hasher = PasswordHasher()  # argon2id, RFC 9106 "low memory" parameters


def hash_password(password: str) -> str:
    """The argon2id hash (with its own salt and parameters) of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False otherwise, also for a hash
    that is malformed or not an argon2 hash at all."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, TypeError, ValueError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (or is unreadable):
    after a successful sign-in the caller stores ``hash_password(password)`` anew."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, TypeError, ValueError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_unknown(password: str) -> bool:
    """Spend the time of a real check for a login that does not exist; always False."""
    verify_password(_dummy_hash(), password)
    return False


def generate_password() -> str:
    """A random initial password such as ``k7mxq-3hfaw-p9tze-rc4nb`` (23 characters)."""
    groups = (
        "".join(secrets.choice(READABLE_CHARACTERS) for _ in range(GROUP_LENGTH))
        for _ in range(GROUPS)
    )
    return "-".join(groups)
