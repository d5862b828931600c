"""Which failures are outages (503/507, waited out by consumers) and which are not."""

import errno
import sqlite3

import eventsourcing.persistence as es
import pytest
import sqlalchemy.exc as sa

from mailroom.outages import (
    BLOB_STORE,
    DISK,
    EVENT_STORE,
    VIEWS,
    DependencyUnavailableError,
    Outage,
    StorageFullError,
    outage_of,
)


def wrapped(outer: Exception, cause: Exception) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (
            es.OperationalError("couldn't get a connection after 3.00 sec"),
            Outage(EVENT_STORE, False),
        ),
        (es.OperationalError("database or disk is full"), Outage(EVENT_STORE, True)),
        (sa.OperationalError("SELECT 1", {}, Exception("server closed")), Outage(VIEWS, False)),
        (sqlite3.OperationalError("database is locked"), Outage(EVENT_STORE, False)),
        (OSError(errno.ENOSPC, "No space left on device"), Outage(DISK, True)),
        (DependencyUnavailableError(BLOB_STORE, "MaxRetryError"), Outage(BLOB_STORE, False)),
        (StorageFullError(BLOB_STORE), Outage(BLOB_STORE, True)),
        (
            wrapped(RuntimeError("saving failed"), StorageFullError(BLOB_STORE)),
            Outage(BLOB_STORE, True),
        ),
    ],
)
def test_outages_are_recognised_through_their_causes(error, outage):
    assert outage_of(error) == outage


@pytest.mark.parametrize(
    "error",
    [
        AttributeError("'PdfImage' object has no attribute 'get_pos'"),
        es.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        es.IntegrityError("duplicate key"),
        OSError(errno.ENOENT, "No such file"),
    ],
)
def test_errors_of_the_input_are_not_outages(error):
    assert outage_of(error) is None


def test_an_exhausted_s3_retry_names_the_last_attempts_cause_and_no_url():
    from urllib3.exceptions import MaxRetryError, ResponseError

    from mailroom.adapters.s3_blobs import _call

    def failing() -> None:
        raise MaxRetryError(None, "/bucket/sha256/abc", ResponseError("too many 500 responses"))  # type: ignore[arg-type]

    with pytest.raises(DependencyUnavailableError) as raised:
        _call(failing)
    assert "MaxRetryError (ResponseError)" in str(raised.value)
    assert "sha256" not in str(raised.value)
