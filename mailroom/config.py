"""Settings: one pydantic-settings class, read from MAILROOM_* environment variables."""

from __future__ import annotations

import secrets
from email.utils import parseaddr
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SAMPLE_CITY_CATALOG = Path(__file__).parent / "cities" / "lindenau" / "catalog.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILROOM_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000

    # Adapters, chosen by URL. Empty means the embedded default under data_dir.
    event_store: str = ""  # sqlite:///path | postgresql://user:pw@host:port/db[?schema=s]
    blob_store: str = ""  # file:///path | s3://bucket
    views_db: str = ""  # SQLAlchemy URL of the read models
    bus: str = "embedded"  # embedded | kafka://host:port[,host:port]

    # S3 / MinIO (when blob_store is s3://BUCKET)
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = True
    s3_region: str | None = None

    # Kafka (when bus is kafka://...)
    kafka_topic_prefix: str = "mailroom"  # one topic per aggregate type: PREFIX.mail-item, ...
    kafka_group_prefix: str = "mailroom"  # consumer groups are PREFIX.CONSUMER
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    cloudevents_source: str = "/mailroom"

    # OCR
    ocr_languages: str = "deu+eng"
    ocr_min_confidence: float = Field(default=60.0, ge=0, le=100)
    ocr_jobs: int | None = Field(default=None, ge=1)  # None: every core
    ocr_page_timeout_s: float = Field(default=120.0, gt=0)
    ocr_max_document_megapixels: int = Field(default=600, ge=1)

    city_catalog: Path = SAMPLE_CITY_CATALOG
    # The city's letter templates; empty: the `letters` folder beside the city catalog.
    letters_dir: Path | None = None
    # How often the delivery worker looks for Postfach documents unread too long (they go by post).
    inbox_fallback_check_s: float = Field(default=3600.0, gt=0)
    secret_key: SecretStr = SecretStr("")
    # Key ring: the previous secret keys (comma-separated, newest first) after a rotation of
    # MAILROOM_SECRET_KEY; access codes issued under them are given again on a retry.
    old_secret_keys: SecretStr = SecretStr("")

    max_upload_mb: int = Field(default=50, ge=1)  # per file
    max_request_mb: int = Field(default=100, ge=1)  # all files of one request together
    max_files_per_item: int = Field(default=20, ge=1)
    max_pages: int = Field(default=60, ge=1)
    max_pixels: int = Field(default=100_000_000, ge=1_000_000)
    max_item_megapixels: int = Field(default=600, ge=1)  # decoded pixels of all pages of a file
    status_failures_allowed: int = Field(default=10, ge=1)
    status_failure_window_s: int = Field(default=900, ge=1)
    # Reverse proxies (comma-separated addresses or CIDRs) whose X-Forwarded-For is believed:
    # the status rate limit counts the client address they forward. Empty: none (the peer).
    trusted_proxies: str = ""
    # How long an API process remembers a portal client key it accepted: a key revoked by
    # another process (CLI, another replica) is refused at the latest after this. 0: never.
    portal_key_memory_s: float = Field(default=5.0, ge=0, le=300)

    # Outages: how long a request waits for the event store, views or blob store before 503
    dependency_timeout_s: float = Field(default=3.0, gt=0, le=60)
    min_free_disk_mb: int = Field(default=200, ge=0)  # below this a local store is "full"

    # Slow clients: header and body read limits of the HTTP server
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    http_body_idle_timeout_s: float = Field(default=20.0, gt=0)
    http_body_min_rate_bytes_s: int = Field(default=1000, ge=1)
    http_max_pending_connections: int = Field(default=256, ge=1)
    # Browser origins allowed to call the API cross-origin (comma-separated); empty: no CORS
    cors_origins: str = ""

    # Consumers: attempts at one event before it is recorded as failed and skipped
    consumer_max_attempts: int = Field(default=3, ge=1)
    consumer_retry_base_s: float = Field(default=1.0, ge=0)
    consumer_retry_max_s: float = Field(default=60.0, gt=0)  # also how often a stall retries

    # OCR lanes: items with more pages than this are read by the bulk lane (ocr-bulk)
    ocr_bulk_pages: int = Field(default=8, ge=1)

    blob_gc_grace_hours: float = Field(default=24.0, ge=0)

    # Observability: log lines as JSON (default in production) or text (default otherwise);
    # workers and the relay serve their own /metrics on this port when it is set.
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # A process whose loop hangs (past its liveness promise) ends itself, to be restarted.
    exit_when_hung: bool = True

    # Staff sign-in. Without an issuer: local accounts (``mailroom staff add``). With one:
    # OpenID Connect (authorization code + PKCE) against the city's identity provider.
    public_url: str = ""  # how browsers reach the mailroom (for the OIDC redirect URI)
    oidc_issuer: str = ""
    oidc_client_id: str = "mailroom"
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_roles_claim: str = "roles"  # e.g. realm_access.roles for Keycloak
    oidc_departments_claim: str = "departments"
    session_hours: float = Field(default=10.0, gt=0, le=24 * 7)

    # E-mail to citizens on status changes (received, department, information needed,
    # decided) through the city's SMTP relay. Without an SMTP host notifications are off.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"  # tls: implicit TLS (port 465)
    smtp_user: str = ""  # empty: no authentication
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300)
    notify_sender: str = ""  # the From: header, e.g. "Stadt Lindenau <noreply@lindenau.de>"
    notify_public_url: str = ""  # where citizens reach the status page (empty: public_url)
    notify_max_attempts: int = Field(default=8, ge=1)  # then the e-mail is recorded as failed
    notify_retry_base_s: float = Field(default=60.0, ge=0)  # doubled after every failed attempt
    notify_retry_max_s: float = Field(default=3600.0, gt=0)
    notify_max_event_age_h: float = Field(default=72.0, gt=0)  # older changes are not mailed

    # Citizen sign-in (Bürgerkonto): OpenID Connect against the city's citizen-account
    # provider, a realm of its own. Without an issuer the Bürgerkonto pages are switched off.
    citizen_oidc_issuer: str = ""
    citizen_oidc_client_id: str = "mailroom-buergerkonto"
    citizen_oidc_client_secret: SecretStr = SecretStr("")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is no IP address or CIDR") from None
        return value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower_case_words(cls, value: object) -> object:
        """``JSON`` is ``json``, ``INFO`` is ``info``; an empty log format is the default."""
        if not isinstance(value, str):
            return value
        return value.strip().lower() or None

    @field_validator("event_store")
    @classmethod
    def _check_event_store(cls, value: str) -> str:
        """Refused without echoing the URL: it may carry the database password."""
        if value and not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB")
        return value

    @field_validator("blob_store")
    @classmethod
    def _check_blob_store(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("use file:///PATH or s3://BUCKET")
        return value

    @field_validator("bus")
    @classmethod
    def _normalise_bus(cls, value: str) -> str:
        """``EMBEDDED`` is ``embedded``, ``KAFKA://host:9092`` is ``kafka://host:9092``."""
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        value = f"{scheme.lower()}{sep}{rest}" if sep else value.lower()
        if value != "embedded" and not (value.startswith("kafka://") and rest.strip(",")):
            raise ValueError("use embedded or kafka://HOST:PORT[,HOST:PORT]")
        return value

    @model_validator(mode="after")
    def _refuse_missing_secret_in_production(self) -> Settings:
        if self.environment == "production" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("MAILROOM_SECRET_KEY must be set (>= 32 characters) in production")
        return self

    @model_validator(mode="after")
    def _check_notifications(self) -> Settings:
        if not self.smtp_host:
            return self
        if "@" not in parseaddr(self.notify_sender)[1]:
            raise ValueError("MAILROOM_NOTIFY_SENDER must be an e-mail address (SMTP host is set)")
        if self.smtp_password.get_secret_value() and not self.smtp_user:
            raise ValueError("MAILROOM_SMTP_PASSWORD is set but MAILROOM_SMTP_USER is not")
        if self.environment == "production":
            if not (self.notify_public_url or self.public_url):
                raise ValueError(
                    "MAILROOM_NOTIFY_PUBLIC_URL (or MAILROOM_PUBLIC_URL) must be set in production:"
                    " e-mails link to the status page"
                )
            if self.smtp_user and self.smtp_tls == "none":
                raise ValueError("MAILROOM_SMTP_TLS=none would send the SMTP password unencrypted")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_networks(self) -> list[IPv4Network | IPv6Network]:
        parts = (p.strip() for p in self.trusted_proxies.split(","))
        return [ip_network(p, strict=False) for p in parts if p]

    @property
    def notify_status_base_url(self) -> str:
        """The base of the status link in e-mails."""
        return self.notify_public_url or self.public_url or f"http://{self.host}:{self.port}"

    @property
    def event_store_url(self) -> str:
        return self.event_store or f"sqlite:///{self.data_dir / 'events.sqlite'}"

    @property
    def blob_store_url(self) -> str:
        return self.blob_store or f"file://{(self.data_dir / 'blobs').resolve()}"

    @property
    def views_db_url(self) -> str:
        if self.views_db:
            return self.views_db
        if self.event_store_url.startswith("postgresql://"):
            return self.event_store_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{self.data_dir / 'views.sqlite'}"

    @property
    def spool_dir(self) -> Path:
        """Uploads are streamed here while they are checked (same disk as local blobs)."""
        return self.data_dir / "spool"

    @property
    def work_dir(self) -> Path:
        """Per-process scratch space (OCR pages); stale ones are swept at start."""
        return self.data_dir / "work"

    @property
    def kafka_bootstrap(self) -> list[str]:
        if not self.bus.startswith("kafka://"):
            raise ValueError(f"MAILROOM_BUS={self.bus!r} is not a kafka:// URL")
        return [h for h in self.bus.removeprefix("kafka://").split(",") if h]

    @property
    def letter_templates(self) -> Path:
        return self.letters_dir or self.city_catalog.parent / "letters"

    def old_secrets(self) -> list[bytes]:
        """The previous server secrets (MAILROOM_OLD_SECRET_KEYS), newest first."""
        keys = self.old_secret_keys.get_secret_value().split(",")
        return [key.strip().encode() for key in keys if key.strip()]

    def secret(self) -> bytes:
        """The server secret; in development it is created once under data_dir."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()
