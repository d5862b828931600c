"""The access code a citizen uses with the reference to check a request's status.

Codes are derived (HMAC of the item id under the server secret), so a retried submission
returns the same code; only a salted SHA-256 of the code is stored. Codes carry 60 random
bits, so a fast hash is enough; online guessing is stopped by rate limiting.
"""

from __future__ import annotations

import hashlib
import hmac
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
