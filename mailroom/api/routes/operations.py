"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mailroom.api.deps import MailroomDep
from mailroom.api.schemas import ReadinessOut
from mailroom.bootstrap import Mailroom
from mailroom.lag import LagMeter
from mailroom.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def health() -> JSONResponse:
    """Liveness: the process answers. Touches no dependency, so it stays fast in an outage."""
    return JSONResponse({"status": "alive"})


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
