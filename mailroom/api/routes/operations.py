"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from mailroom.api.deps import MailroomDep
from mailroom.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def health() -> JSONResponse:
    """Liveness: the process answers. Touches no dependency, so it stays fast in an outage."""
    return JSONResponse({"status": "alive"})


@router.get("/readyz")
async def ready(mailroom: MailroomDep) -> JSONResponse:
    """Readiness: every store reachable with room to write, and no consumer stalled."""
    report = await asyncio.get_running_loop().run_in_executor(None, mailroom.readiness.report)
    return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)


@router.get("/metrics")
async def metrics(mailroom: MailroomDep) -> Response:
    """Prometheus metrics: readiness per dependency and the consumers' troubles."""
    report = await asyncio.get_running_loop().run_in_executor(None, mailroom.readiness.report)
    body, content_type = exposition(report)
    return Response(body, media_type=content_type)
