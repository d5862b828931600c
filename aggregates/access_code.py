"""The access code a citizen uses with the reference to check a request's status.

Codes are derived (HMAC of the item id under the server secret), so a retried submission
returns the same code; only a salted SHA-256 of the code is stored. Codes carry 60 random
bits, so a fast hash is enough; online guessing is stopped by rate limiting.

The secret can be rotated (``AccessCodeKeys``): new codes come from the current key, and a
code issued before is found again by deriving it under each previous key and comparing it
with the stored hash. Checking a code needs no key at all (only the stored hash), so codes
issued under a retired key keep working even after that key has left the ring.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from uuid import UUID

from aggregates.reference import ALPHABET

_NORMALISE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
CODE_LENGTH = 12


def derive_access_code(secret: bytes, item_id: UUID) -> str:
    digest = hmac.new(secret, b"access-code:" + item_id.bytes, hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, 32)
        chars.append(ALPHABET[index])
    code = "".join(chars)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise_access_code(code: str) -> str:
    return code.upper().translate(_NORMALISE)


def hash_access_code(reference: str, code: str) -> str:
    salted = f"{reference}:{normalise_access_code(code)}".encode()
    return hashlib.sha256(salted).hexdigest()


def access_code_matches(reference: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_access_code(reference, code), stored_hash)


class AccessCodeKeys:
    """The key ring of access codes: ``current`` issues, ``previous`` (newest first) are
    kept so that the code an item got under an older key can be given again."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        if not current:
            raise ValueError("the current access-code key is empty")
        self.keys = [current, *(key for key in previous if key and key != current)]

    def issue(self, item_id: UUID) -> str:
        return derive_access_code(self.keys[0], item_id)

    def original(self, item_id: UUID, reference: str, stored_hash: str) -> str | None:
        """The code the item was given (under whichever key of the ring), or None when the
        key that issued it is no longer in the ring."""
        for key in self.keys:
            code = derive_access_code(key, item_id)
            if access_code_matches(reference, code, stored_hash):
                return code
        return None
