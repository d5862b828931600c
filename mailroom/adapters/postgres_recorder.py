"""The PostgreSQL process recorder with a time bound on its retries.

eventsourcing retries every recorder call up to ten times when the database is away; with
a pool that waits seconds for a connection, a request would hang for half a minute before
the mailroom could answer 503. Here a failed call is repeated once, and only when it
failed fast (a connection that died with a restarted server); a call that already waited
for the pool fails at once. Selected with the library's PROCESS_RECORDER_TOPIC setting.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresProcessRecorder

F = TypeVar("F", bound=Callable[..., Any])

_FAST_FAILURE_S = 0.5
_PAUSE_S = 0.1


def _once_more_if_fast(retried: F) -> F:
    call = getattr(retried, "__wrapped__", retried)  # the method without the library's retry

    @functools.wraps(call)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return call(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if time.monotonic() - started > _FAST_FAILURE_S:
                raise
            time.sleep(_PAUSE_S)
            return call(*args, **kwargs)

    return cast(F, bounded)


class BoundedPostgresProcessRecorder(PostgresProcessRecorder):
    insert_events = _once_more_if_fast(PostgresProcessRecorder.insert_events)
    select_events = _once_more_if_fast(PostgresProcessRecorder.select_events)
    select_notifications = _once_more_if_fast(PostgresProcessRecorder.select_notifications)
    max_notification_id = _once_more_if_fast(PostgresProcessRecorder.max_notification_id)
    insert_tracking = _once_more_if_fast(PostgresProcessRecorder.insert_tracking)
    max_tracking_id = _once_more_if_fast(PostgresProcessRecorder.max_tracking_id)
    has_tracking_id = _once_more_if_fast(PostgresProcessRecorder.has_tracking_id)
