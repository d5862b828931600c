"""The composition root: the only place that picks adapters for the settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from mailroom.adapters.event_store import persistence_env
from mailroom.adapters.filesystem_blobs import FileSystemBlobStore
from mailroom.application import MailroomApp
from mailroom.config import Settings
from mailroom.consumers.base import Consumer
from mailroom.consumers.router import RouterConsumer
from mailroom.consumers.text_extraction import TextExtractionConsumer
from mailroom.intake.inspection import UploadLimits
from mailroom.intake.service import IntakeService
from mailroom.ports import BlobStore
from mailroom.runner import EmbeddedRunner
from mailroom.status import FailureRateLimiter, StatusService
from ocr import OcrEngine, OcrOptions
from projections.case_directory import CaseDirectoryProjection
from projections.database import create_views_engine
from projections.status import StatusProjection
from routing.catalog import Catalog, UnknownDepartmentError

log = logging.getLogger(__name__)
T = TypeVar("T")


class ConfigurationError(ValueError):
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Mailroom:
    settings: Settings
    app: MailroomApp
    blobs: BlobStore
    catalog: Catalog
    views: Engine
    status_projection: StatusProjection
    case_directory: CaseDirectoryProjection
    text_extraction: TextExtractionConsumer
    consumers: list[Consumer]
    intake: IntakeService
    status: StatusService
    runner: EmbeddedRunner

    def department_name(self, department_id: str) -> str:
        return _department_name(self.catalog, department_id)

    def consumer(self, name: str) -> Consumer:
        for consumer in self.consumers:
            if consumer.name == name:
                return consumer
        known = ", ".join(c.name for c in self.consumers)
        raise ConfigurationError(f"no consumer named {name!r} (known: {known})")

    def start(self) -> None:
        if self.settings.bus == "embedded":
            self.runner.start()
        elif not self.settings.bus.startswith("kafka://"):
            raise ConfigurationError(
                f"MAILROOM_BUS={self.settings.bus!r}: use embedded or kafka://HOST:PORT"
            )

    def stop(self) -> None:
        self.runner.stop()
        self.text_extraction.close()
        self.views.dispose()
        self.app.close()


def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Mailroom:
    catalog = Catalog.load(settings.city_catalog)
    app = build_app(settings)
    blobs = build_blob_store(settings)
    views = _creating_tables(lambda: create_views_engine(settings.views_db_url))
    status_projection = StatusProjection(views, lambda d: _department_name(catalog, d))
    case_directory = CaseDirectoryProjection(views)
    ocr_options = OcrOptions(
        languages=settings.ocr_languages,
        min_confidence=settings.ocr_min_confidence,
        jobs=settings.ocr_jobs,
        page_timeout_s=settings.ocr_page_timeout_s,
        max_pages=settings.max_pages,
        max_page_pixels=settings.max_pixels,
    )
    text_extraction = TextExtractionConsumer(app, blobs, lambda: OcrEngine(ocr_options))
    consumers: list[Consumer] = [
        text_extraction,
        RouterConsumer(app, catalog, case_directory, clock),
        status_projection,
        case_directory,
    ]
    limits = UploadLimits(
        max_bytes=settings.max_upload_mb * 1024 * 1024,
        max_pages=settings.max_pages,
        max_pixels=settings.max_pixels,
    )
    intake = IntakeService(
        app, blobs, catalog, limits, settings.max_files_per_item, settings.secret(), clock
    )
    limiter = FailureRateLimiter(settings.status_failures_allowed, settings.status_failure_window_s)
    status = StatusService(status_projection, app, catalog.city.reference_prefix, limiter)
    return Mailroom(
        settings=settings,
        app=app,
        blobs=blobs,
        catalog=catalog,
        views=views,
        status_projection=status_projection,
        case_directory=case_directory,
        text_extraction=text_extraction,
        consumers=consumers,
        intake=intake,
        status=status,
        runner=EmbeddedRunner(app, consumers),
    )


def build_app(settings: Settings) -> MailroomApp:
    """The event store alone, for processes that need no more (relay, admin commands)."""
    return _creating_tables(lambda: MailroomApp(env=persistence_env(settings.event_store_url)))


def _creating_tables(create: Callable[[], T]) -> T:
    """Processes that start together race to create the same tables ("tuple concurrently
    updated" in PostgreSQL); the loser finds them created when it tries again."""
    for attempt in range(1, 6):
        try:
            return create()
        except (PersistenceError, DBAPIError) as exc:
            if attempt == 5:
                raise
            log.warning("creating tables failed (%s); trying again", exc)
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def build_blob_store(settings: Settings) -> BlobStore:
    url = settings.blob_store_url
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileSystemBlobStore(Path(parsed.path))
    if parsed.scheme == "s3" and parsed.netloc:
        from minio import Minio

        from mailroom.adapters.s3_blobs import S3BlobStore

        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
        return S3BlobStore(client, parsed.netloc)
    raise ConfigurationError(f"unsupported blob store URL {url!r}: use file:///PATH or s3://BUCKET")


def _department_name(catalog: Catalog, department_id: str) -> str:
    try:
        return catalog.department(department_id).name
    except UnknownDepartmentError:
        return department_id
