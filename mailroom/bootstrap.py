"""The composition root: the only place that picks adapters for the settings."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from aggregates.access_code import AccessCodeKeys
from aggregates.deadlines import calendar_for
from letters import TemplateLibrary
from mailroom.adapters.event_store import persistence_env
from mailroom.adapters.filesystem_blobs import FileSystemBlobStore
from mailroom.api.multipart import ReceiveLimits
from mailroom.application import MailroomApp
from mailroom.auth.oidc import OidcClient, OidcConfig
from mailroom.config import Settings
from mailroom.consumers.base import Consumer
from mailroom.consumers.delivery import RetryPolicy
from mailroom.consumers.dispatch import DispatchConsumer
from mailroom.consumers.health import HealthStore
from mailroom.consumers.notifications import build_notification_consumer
from mailroom.consumers.router import RouterConsumer
from mailroom.consumers.text_extraction import SharedEngine, TextExtractionConsumer, lanes
from mailroom.duties import PeriodicDuty
from mailroom.endpoints import describe, redact
from mailroom.intake.inspection import UploadLimits
from mailroom.outages import EVENT_STORE, VIEWS, outage_of
from mailroom.ports import BlobStore
from mailroom.readiness import KafkaCheck, Readiness, disk_check
from mailroom.runner import EmbeddedRunner
from mailroom.services.casework import CaseworkService, StaffLookup
from mailroom.services.citizen import CitizenService
from mailroom.services.documents import DocumentService
from mailroom.services.imports import ImportService
from mailroom.services.intake import IntakeService
from mailroom.services.letters import LetterService
from mailroom.services.portal_clients import PortalClientService
from mailroom.services.staff import StaffService
from mailroom.services.stations import StationService
from mailroom.services.status import StatusService
from mailroom.services.status_limit import StatusFailureLimit
from mailroom.services.triage import TriageService
from mailroom.services.workspace import WorkspaceService
from mailroom.workdirs import WorkDirs, sweep_stale
from ocr import OcrEngine, OcrOptions
from projections.base import Projection
from projections.case_directory import CaseDirectoryProjection
from projections.cases import CaseViewProjection
from projections.database import create_views_engine
from projections.items import ItemViewProjection
from projections.outgoing import OutgoingProjection
from projections.search import SearchProjection
from projections.status import StatusProjection
from routing.catalog import Catalog, UnknownDepartmentError

log = logging.getLogger(__name__)
OIDC_CALLBACK_PATH = "/anmelden/oidc/zurueck"  # served by mailroom.web.routes_oidc
CITIZEN_OIDC_CALLBACK_PATH = "/buergerkonto/zurueck"  # mailroom.web.routes_citizen_account
T = TypeVar("T")


class ConfigurationError(ValueError):
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReadModels:
    """Every read model, once: the embedded runner, the workers, ``projections rebuild``
    and the test stack all take them from here."""

    status: StatusProjection
    case_directory: CaseDirectoryProjection
    cases: CaseViewProjection
    items: ItemViewProjection
    search: SearchProjection
    outgoing: OutgoingProjection

    def all(self) -> list[Projection]:
        return [
            self.status,
            self.case_directory,
            self.cases,
            self.items,
            self.search,
            self.outgoing,
        ]


def build_read_models(
    views: Engine, catalog: Catalog, staff_name: Callable[[str], str | None] | None = None
) -> ReadModels:
    return ReadModels(
        status=StatusProjection(views, lambda d: _department_name(catalog, d)),
        case_directory=CaseDirectoryProjection(views),
        cases=CaseViewProjection(
            views, calendar_for(catalog.city.land), catalog.processing_days, staff_name
        ),
        items=ItemViewProjection(views),
        search=SearchProjection(views),
        outgoing=OutgoingProjection(views),
    )


@dataclass
class Services:
    """The use cases; the CLI, the API and the web call these, never build their own."""

    intake: IntakeService
    status: StatusService
    casework: CaseworkService
    triage: TriageService
    staff: StaffService
    stations: StationService
    portal_clients: PortalClientService
    imports: ImportService
    documents: DocumentService
    workspace: WorkspaceService
    letters: LetterService
    citizen: CitizenService


@dataclass
class Mailroom:
    settings: Settings
    app: MailroomApp
    blobs: BlobStore
    catalog: Catalog
    views: Engine
    health: HealthStore
    read_models: ReadModels
    ocr_engine: SharedEngine
    consumers: list[Consumer]
    services: Services
    runner: EmbeddedRunner
    readiness: Readiness
    retry_policy: RetryPolicy
    oidc: OidcClient | None
    receive_limits: ReceiveLimits
    work_dirs: WorkDirs
    duties: list[PeriodicDuty]
    citizen_oidc: OidcClient | None = None  # the Bürgerkonto's provider (citizen realm)

    def department_name(self, department_id: str) -> str:
        return _department_name(self.catalog, department_id)

    @property
    def projections(self) -> list[Projection]:
        return self.read_models.all()

    def projection(self, name: str) -> Projection:
        for projection in self.projections:
            if projection.name == name:
                return projection
        known = ", ".join(p.name for p in self.projections)
        raise ConfigurationError(f"no read model named {name!r} (known: {known})")

    # Shorthands used widely (the services and read models above are the real homes).
    @property
    def status_projection(self) -> StatusProjection:
        return self.read_models.status

    @property
    def case_directory(self) -> CaseDirectoryProjection:
        return self.read_models.case_directory

    @property
    def intake(self) -> IntakeService:
        return self.services.intake

    @property
    def status(self) -> StatusService:
        return self.services.status

    @property
    def spool(self) -> Path:
        """This process's directory for uploads being received (claimed on first use)."""
        return self.work_dirs.claim(self._spool_parent)

    @functools.cached_property
    def _spool_parent(self) -> Path:
        # One Path object for every request: building it and hashing a new one each time
        # was a measurable part of an intake request.
        return self.settings.spool_dir

    def consumer(self, name: str) -> Consumer:
        for consumer in self.consumers:
            if consumer.name == name:
                return consumer
        known = ", ".join(c.name for c in self.consumers)
        raise ConfigurationError(f"no consumer named {name!r} (known: {known})")

    def start(self) -> None:
        if self.settings.bus == "embedded":
            self.runner.start()
            for duty in self.duties:
                duty.start()
        elif not self.settings.bus.startswith("kafka://"):
            raise ConfigurationError(
                f"MAILROOM_BUS={self.settings.bus!r}: use embedded or kafka://HOST:PORT"
            )

    def stop(self) -> None:
        for duty in self.duties:
            duty.stop()
        self.runner.stop()
        if self.oidc is not None:
            self.oidc.close()
        if self.citizen_oidc is not None:
            self.citizen_oidc.close()
        self.ocr_engine.close()
        self.readiness.close()
        self.work_dirs.release_all()
        self.views.dispose()
        self.app.close()


def build(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Mailroom:
    catalog = Catalog.load(settings.city_catalog)
    app = build_app(settings)
    blobs = build_blob_store(settings)
    timeout = settings.dependency_timeout_s
    views = _creating_tables(
        lambda: create_views_engine(settings.views_db_url, timeout), describe(settings, VIEWS)
    )
    health = HealthStore(views, clock)
    staff = StaffService(app, catalog, clock)
    staff_lookup = _staff_lookup(staff)
    read_models = build_read_models(views, catalog, lambda p: (staff_lookup(p) or (None,))[0])
    work_dirs = WorkDirs()
    for parent in (settings.spool_dir, settings.work_dir / "ocr"):
        sweep_stale(parent)  # what killed processes left behind (living ones hold a lock)
    ocr_engine = SharedEngine(
        lambda: OcrEngine(
            _ocr_options(settings), work_dir=work_dirs.claim(settings.work_dir / "ocr")
        )
    )
    ocr_lanes = [
        TextExtractionConsumer(
            app, blobs, ocr_engine, lane, lambda: work_dirs.claim(settings.work_dir / "ocr")
        )
        for lane in lanes(settings.ocr_bulk_pages)
    ]
    codes = AccessCodeKeys(settings.secret(), settings.old_secrets())
    letters = LetterService(
        app,
        blobs,
        catalog,
        TemplateLibrary(settings.letter_templates),
        read_models.outgoing,
        read_models.case_directory,
        calendar_for(catalog.city.land),
        codes,
        _public_url(settings),
        clock,
    )
    consumers: list[Consumer] = [
        *ocr_lanes,
        RouterConsumer(app, catalog, read_models.case_directory, clock),
        DispatchConsumer(app, letters, clock),
        *read_models.all(),
        build_notification_consumer(settings, app, views, catalog, utc_now),
    ]
    limits = UploadLimits(
        max_bytes=settings.max_upload_mb * 2**20,
        max_pages=settings.max_pages,
        max_pixels=settings.max_pixels,
        max_item_pixels=settings.max_item_megapixels * 1_000_000,
    )
    intake = IntakeService(app, blobs, catalog, limits, settings.max_files_per_item, codes, clock)
    limiter = StatusFailureLimit(
        views, settings.status_failures_allowed, settings.status_failure_window_s, utc_now
    )
    status = StatusService(read_models.status, app, catalog.city.reference_prefix, limiter)
    services = Services(
        intake=intake,
        status=status,
        casework=CaseworkService(app, catalog, read_models.case_directory, staff_lookup, clock),
        triage=TriageService(app, catalog, clock),
        staff=staff,
        stations=StationService(app, clock),
        portal_clients=PortalClientService(app, clock, settings.portal_key_memory_s),
        imports=ImportService(app, catalog, clock),
        workspace=WorkspaceService(
            views, read_models.all(), calendar_for(catalog.city.land), clock
        ),
        documents=DocumentService(app, blobs, settings.work_dir / "previews", settings.max_pixels),
        letters=letters,
        citizen=CitizenService(
            status,
            intake,
            app,
            views,
            catalog,
            calendar_for(catalog.city.land),
            read_models.cases,
            clock,
            outgoing=read_models.outgoing,
            letters=letters,
        ),
    )
    policy = RetryPolicy(
        max_attempts=settings.consumer_max_attempts,
        base_delay_s=settings.consumer_retry_base_s,
        max_delay_s=settings.consumer_retry_max_s,
    )
    return Mailroom(
        settings=settings,
        app=app,
        blobs=blobs,
        catalog=catalog,
        views=views,
        health=health,
        read_models=read_models,
        ocr_engine=ocr_engine,
        consumers=consumers,
        services=services,
        runner=EmbeddedRunner(app, consumers, health, policy),
        readiness=_readiness(settings, app, views, blobs, health),
        retry_policy=policy,
        receive_limits=ReceiveLimits(
            max_file_bytes=settings.max_upload_mb * 2**20,
            max_request_bytes=settings.max_request_mb * 2**20,
            max_files=settings.max_files_per_item,
            idle_timeout_s=settings.http_body_idle_timeout_s,
            min_rate_bytes_s=settings.http_body_min_rate_bytes_s,
        ),
        work_dirs=work_dirs,
        oidc=_oidc_client(settings),
        citizen_oidc=_citizen_oidc_client(settings),
        duties=[
            PeriodicDuty(
                "inbox-fallback",
                DispatchConsumer.name,
                settings.inbox_fallback_check_s,
                letters.fall_back_unread,
            )
        ],
    )


def _ocr_options(settings: Settings) -> OcrOptions:
    return OcrOptions(
        languages=settings.ocr_languages,
        min_confidence=settings.ocr_min_confidence,
        jobs=settings.ocr_jobs,
        page_timeout_s=settings.ocr_page_timeout_s,
        max_pages=settings.max_pages,
        max_page_pixels=settings.max_pixels,
        max_document_pixels=settings.ocr_max_document_megapixels * 1_000_000,
    )


def _readiness(
    settings: Settings, app: MailroomApp, views: Engine, blobs: BlobStore, health: HealthStore
) -> Readiness:
    def views_answer() -> None:
        with views.connect() as conn:
            conn.execute(text("SELECT 1"))

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    checks = {
        "event_store": app.max_notification_id,
        "views": views_answer,
        "blob_store": blobs.check,
        "local_disk": disk_check(settings.data_dir, settings.min_free_disk_mb * 2**20),
    }
    if settings.bus.startswith("kafka://"):
        checks["bus"] = KafkaCheck(settings.kafka_bootstrap, settings.dependency_timeout_s)
    return Readiness(checks, health, settings.dependency_timeout_s)


def build_app(settings: Settings) -> MailroomApp:
    """The event store alone, for processes that need no more (relay, admin commands)."""
    env = persistence_env(settings.event_store_url, settings.dependency_timeout_s)
    return _creating_tables(lambda: MailroomApp(env=env), describe(settings, EVENT_STORE))


def _creating_tables(create: Callable[[], T], where: str) -> T:
    """Processes that start together race to create the same tables ("tuple concurrently
    updated" in PostgreSQL); the loser finds them created when it tries again."""
    for attempt in range(1, 6):
        try:
            return create()
        except (PersistenceError, DBAPIError) as exc:
            if attempt == 5:
                raise
            if outage_of(exc) is not None:
                log.warning("cannot reach %s (%s); trying again", where, redact(str(exc)))
            else:
                log.warning("creating tables in %s failed (%s); trying again", where, exc)
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def build_blob_store(settings: Settings) -> BlobStore:
    url = settings.blob_store_url
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileSystemBlobStore(Path(parsed.path), settings.min_free_disk_mb * 2**20)
    if parsed.scheme == "s3" and parsed.netloc:
        from minio import Minio

        from mailroom.adapters.s3_blobs import S3BlobStore, http_client

        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http_client(settings.dependency_timeout_s, settings.s3_secure),
        )
        return S3BlobStore(client, parsed.netloc)
    raise ConfigurationError(f"unsupported blob store URL {url!r}: use file:///PATH or s3://BUCKET")


def _oidc_client(settings: Settings) -> OidcClient | None:
    """Staff sign-in through the city's identity provider, when one is configured."""
    if not settings.oidc_issuer:
        return None
    public = _public_url(settings)
    return OidcClient(
        OidcConfig(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            redirect_uri=public.rstrip("/") + OIDC_CALLBACK_PATH,
            roles_claim=settings.oidc_roles_claim,
            departments_claim=settings.oidc_departments_claim,
        )
    )


def _public_url(settings: Settings) -> str:
    """How browsers reach the mailroom (links in letters and e-mails, OIDC redirects)."""
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _citizen_oidc_client(settings: Settings) -> OidcClient | None:
    """Citizen sign-in (Bürgerkonto) at the city's citizen-account provider, when configured:
    a client of its own, never the staff realm's."""
    if not settings.citizen_oidc_issuer:
        return None
    return OidcClient(
        OidcConfig(
            issuer=settings.citizen_oidc_issuer,
            client_id=settings.citizen_oidc_client_id,
            client_secret=settings.citizen_oidc_client_secret.get_secret_value(),
            redirect_uri=_public_url(settings) + CITIZEN_OIDC_CALLBACK_PATH,
        )
    )


def _staff_lookup(staff: StaffService) -> StaffLookup:
    """Who can be assigned a case: local accounts by principal id (``staff:LOGIN``)."""

    def lookup(principal_id: str) -> tuple[str, frozenset[str]] | None:
        kind, _, login = principal_id.partition(":")
        member = staff.find(login) if kind == "staff" else None
        if member is None or not member.active:
            return None
        return member.name, frozenset(member.departments)

    return lookup


def _department_name(catalog: Catalog, department_id: str) -> str:
    try:
        return catalog.department(department_id).name
    except UnknownDepartmentError:
        return department_id
