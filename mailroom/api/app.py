"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

from mailroom.api.body_limit import BodySizeLimit
from mailroom.api.docs import install_docs
from mailroom.api.errors import install_error_handlers
from mailroom.api.observability import install_observability
from mailroom.api.openapi import install_openapi
from mailroom.api.routes import catalog, operations, scans, status, submissions
from mailroom.api.security_headers import SecurityHeaders
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.liveness import API_LOOP, HEARTBEATS, beat, watch_this_process
from mailroom.web import mount_web

_EVENT_LOOP_BEAT_S = 10.0  # blocked for this and the grace: late


def settle_garbage_collector() -> None:
    """Move what start-up built (modules, catalog, templates, pools) out of the collector's
    view, and collect the young generation less often: a full collection of that heap
    stalled requests for tens of milliseconds under load (the p99 of the intake)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def create_app(mailroom: Mailroom | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the API around a composed mailroom (built from settings when not given)."""
    owned = mailroom is None
    mailroom = mailroom or build(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not owned:  # a caller's mailroom (tests): started and watched by the caller
            yield
            return
        mailroom.start()
        settle_garbage_collector()
        # uvicorn's worker processes (serve --workers N) get their logging from its
        # log_config, not from configure_logging: warnings become log lines here too.
        logging.captureWarnings(True)
        # This process's liveness: the event loop beats beside the embedded runner's loops,
        # and the watchdog ends the process when one of them hangs (mailroom/liveness.py).
        beating = asyncio.create_task(beat(HEARTBEATS, API_LOOP, _EVENT_LOOP_BEAT_S))
        watchdog = watch_this_process(mailroom.settings.exit_when_hung)
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            if watchdog is not None:
                watchdog.set()
            logging.captureWarnings(False)
            mailroom.stop()

    app = FastAPI(
        title="Mailroom",
        summary="Digital mailroom of " + mailroom.catalog.city.name,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with assets from this server
        redoc_url=None,
    )
    app.state.mailroom = mailroom
    install_error_handlers(app)
    install_openapi(app)
    api = APIRouter(prefix="/api/v1")
    api.include_router(submissions.router)
    api.include_router(scans.router)
    api.include_router(status.router)
    app.include_router(api)
    app.include_router(catalog.router)
    app.include_router(operations.router)
    install_docs(app)
    mount_web(app, mailroom)
    settings = mailroom.settings
    max_body = (settings.max_request_mb + 1) * 2**20  # the files plus the form around them
    app.add_middleware(BodySizeLimit, max_bytes=max_body)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Access-Code"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, hsts=settings.environment == "production")
    install_observability(app, mailroom)  # outermost: request id and latency of every answer
    return app
