"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from aggregates import ids
from aggregates.portal_client import PortalClient
from aggregates.station import ScanningStation, hash_token
from mailroom.api.client_address import client_address
from mailroom.bootstrap import Mailroom
from mailroom.services.portal_clients import PortalClientRefusedError


class NotAuthenticatedError(Exception):
    """401; ``code`` (the ``reason`` of the answer): missing_credentials,
    invalid_credentials or revoked_credentials."""

    def __init__(self, detail: str, code: str = "not_authenticated") -> None:
        super().__init__(detail)
        self.code = code


async def get_mailroom(request: Request) -> Mailroom:
    # async although it does no I/O: FastAPI runs a plain ``def`` dependency in a worker
    # thread, a hand-off per request for reading an attribute.
    mailroom: Mailroom = request.app.state.mailroom
    return mailroom


MailroomDep = Annotated[Mailroom, Depends(get_mailroom)]


def get_station(
    mailroom: MailroomDep, authorization: Annotated[str | None, Header()] = None
) -> ScanningStation:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticatedError("a scanning station token is required (Authorization: Bearer)")
    token = token.strip()
    station = mailroom.app.find_station(ids.station_id(hash_token(token)))
    if station is None or not station.accepts(token):
        raise NotAuthenticatedError("the scanning station token is not valid")
    return station


StationDep = Annotated[ScanningStation, Depends(get_station)]


async def portal_client_of(request: Request) -> PortalClient:
    """The portal client whose key is the request's bearer token (``mailroom portal-client
    add``): for an endpoint that takes only the request, since FastAPI's solving of nested
    dependencies costs more per request than the lookup itself (the intake's hot path).

    A key this process accepted a moment ago is answered on the event loop; otherwise the
    client is read from the event store in a worker thread.
    """
    mailroom: Mailroom = request.app.state.mailroom
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    service = mailroom.services.portal_clients
    if (known := service.recently_accepted(token)) is not None:
        return known
    try:
        return await run_in_threadpool(service.authenticate, token)
    except PortalClientRefusedError as exc:
        raise NotAuthenticatedError(str(exc), exc.code) from None


IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200
# What FastAPI would document for ``Header(alias=IDEMPOTENCY_KEY, max_length=200)``.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY}, {"type": "null"}],
        "title": IDEMPOTENCY_KEY,
    },
}


def idempotency_key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, read like the client (``portal_client_of``) for an
    endpoint that takes only the request; a longer one is refused as FastAPI's
    ``Header(max_length=200)`` would refuse it (422 naming the header)."""
    value = request.headers.get(IDEMPOTENCY_KEY)
    if value is not None and len(value) > MAX_IDEMPOTENCY_KEY:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("header", IDEMPOTENCY_KEY),
                    "msg": f"String should have at most {MAX_IDEMPOTENCY_KEY} characters",
                    "input": value,
                    "ctx": {"max_length": MAX_IDEMPOTENCY_KEY},
                }
            ]
        )
    return value


def client_key(request: Request) -> str:
    """The client's address: the peer, or the one forwarded by a trusted proxy."""
    mailroom: Mailroom = request.app.state.mailroom
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("X-Forwarded-For"),
        mailroom.settings.trusted_proxy_networks,
    )
