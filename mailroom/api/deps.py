"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from aggregates import ids
from aggregates.station import ScanningStation, hash_token
from mailroom.bootstrap import Mailroom


class NotAuthenticatedError(Exception):
    pass


def get_mailroom(request: Request) -> Mailroom:
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


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"
