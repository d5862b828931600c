"""Who is signed in with the Bürgerkonto, kept apart from staff sign-in.

The citizen lives under its own key of the signed session cookie (``citizen``) with its own
kind of principal (``citizen:SUB``): ``mailroom.web.session.current_principal`` never reads it,
so a citizen never gets a staff right, and this module never reads the staff principal. Both
sign-ins start a fresh session, so one browser session holds a staff member or a citizen,
never both. A citizen's sign-in lasts at most :data:`CITIZEN_SIGN_IN_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from mailroom.auth.oidc import OidcClient, OidcError
from mailroom.services.citizen import Citizen
from mailroom.web.csrf import new_csrf_token

CITIZEN_KEY = "citizen"
PENDING_KEY = "citizen_oidc_pending"
CITIZEN_SIGN_IN_SECONDS = 2 * 3600
MAX_CLAIM = 200


def citizen_oidc(request: Request) -> OidcClient | None:
    client: OidcClient | None = getattr(request.app.state.mailroom, "citizen_oidc", None)
    return client


def current_citizen(request: Request) -> Citizen | None:
    """The signed-in citizen, or None (nobody, or the sign-in is too old)."""
    if "session" not in request.scope:
        return None
    data = request.session.get(CITIZEN_KEY)
    if not isinstance(data, dict):
        return None
    since, now = data.get("since"), time.time()
    account_id, name = data.get("id"), data.get("name")
    if (
        not isinstance(since, int)
        or not since - 60 <= now
        or now - since > CITIZEN_SIGN_IN_SECONDS
        or not isinstance(account_id, str)
        or not account_id
        or not isinstance(name, str)
    ):
        request.session.pop(CITIZEN_KEY, None)
        return None
    email = data.get("email")
    return Citizen(account_id, name, email if isinstance(email, str) else None)


def sign_in_citizen(request: Request, citizen: Citizen) -> None:
    """A new session for the citizen: nothing of the old one survives (no staff principal,
    no session fixation), and a new CSRF token."""
    request.session.clear()
    request.session[CITIZEN_KEY] = {
        "id": citizen.account_id,
        "name": citizen.name,
        "email": citizen.email,
        "since": int(time.time()),
    }
    new_csrf_token(request)


def sign_out_citizen(request: Request) -> None:
    request.session.clear()


def citizen_from_claims(claims: Mapping[str, Any]) -> Citizen:
    """The citizen the (already validated) id token names: its subject is the account id."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_CLAIM:
        raise OidcError("invalid_token", "no usable subject")
    name = _text(claims.get("name"))
    if not name:
        name = " ".join(
            part for part in (_text(claims.get("given_name")), _text(claims.get("family_name")))
        ).strip()
    name = name or _text(claims.get("preferred_username")) or "Bürgerkonto"
    email = _text(claims.get("email"))
    verified = claims.get("email_verified")
    return Citizen(sub, name, email if email and verified is not False else None)


def _text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    cleaned = "".join(c for c in value if c.isprintable()).strip()
    return cleaned[:MAX_CLAIM]
