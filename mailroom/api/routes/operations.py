"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mailroom.api.deps import MailroomDep
from mailroom.api.schemas import ReadinessOut
from mailroom.bootstrap import Mailroom
from mailroom.lag import LagMeter
from mailroom.liveness import HEARTBEATS
from mailroom.metrics import exposition

router = APIRouter(tags=["operations"])


_ALIVE_EXAMPLE = {"status": "alive", "loops": {"runner router": "ok"}}
_LATE_EXAMPLE = {"status": "late", "loops": {"runner router": "late"}}


@router.get(
    "/healthz",
    responses={
        200: {"content": {"application/json": {"example": _ALIVE_EXAMPLE}}},
        503: {
            "description": "A loop of this process is past its promise (hung): restart it",
            "content": {"application/json": {"example": _LATE_EXAMPLE}},
        },
    },
)
async def health() -> JSONResponse:
    """Liveness: the process answers, and the loops it runs (the embedded mode's consumers
    and notification sender) are back within their promises (mailroom/liveness.py).
    Touches no dependency, so it stays fast in an outage; an outage is not a hang."""
    report = HEARTBEATS.report()
    return JSONResponse(report.as_json(), status_code=200 if report.alive else 503)


_READY_EXAMPLE = {
    "status": "ready",
    "checks": {"event_store": "ok", "blob_store": "ok"},
    "consumers": [],
}
_NOT_READY_EXAMPLE = {
    "status": "not_ready",
    "checks": {"event_store": "ok", "blob_store": "unreachable"},
    "consumers": [],
}


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    responses={
        200: {"content": {"application/json": {"example": _READY_EXAMPLE}}},
        503: {
            "description": "Not ready: a store or the bus does not answer (the same report)",
            "model": ReadinessOut,
            "content": {"application/json": {"example": _NOT_READY_EXAMPLE}},
        },
    },
)
async def ready(mailroom: MailroomDep) -> JSONResponse:
    """Readiness: every store reachable with room to write (and the bus, with Kafka). A
    stalled consumer shows as ``"status": "degraded"`` with 200, named in the body."""
    report = await asyncio.get_running_loop().run_in_executor(None, mailroom.readiness.report)
    return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)


@router.get("/metrics")
async def metrics(request: Request, mailroom: MailroomDep) -> Response:
    """Prometheus metrics: readiness, consumer and relay lag (computed per scrape, the same
    from every API process), and this process's intake, OCR, router and HTTP figures."""
    body, content_type = await asyncio.get_running_loop().run_in_executor(
        None, _exposition, mailroom, getattr(request.app.state, "lag_meter", None)
    )
    return Response(body, media_type=content_type)


def _exposition(mailroom: Mailroom, meter: LagMeter | None) -> tuple[bytes, str]:
    meter = meter or LagMeter(mailroom)
    report = mailroom.readiness.report()
    return exposition(report, meter.consumer_lag(), meter.relay_lag())
