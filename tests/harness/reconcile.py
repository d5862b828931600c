"""Reconcile a running mailroom's views against its event store, for fault tests.

``reconcile_views`` rebuilds the status view and the case directory from the event store
into a scratch views database (a fresh PostgreSQL schema, or any SQLAlchemy URL) and
compares them row by row with the live views the workers wrote: a lost event shows as a
missing or stale row, an effect applied twice as a doubled timeline entry or a wrong
version. ``effects_once`` checks the event store itself: one Received per item, at most one
routing decision and one Case.Opened per item, one TextExtracted per document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, Table, select

from aggregates.case import Case
from aggregates.mail_item import MailItem
from mailroom.bootstrap import Mailroom, build_read_models
from mailroom.cli.admin import replay
from projections.case_directory import case_directory, case_reference_keys
from projections.database import create_views_engine
from projections.status import status_items, status_timeline

DECISIONS = (get_topic(MailItem.Routed), get_topic(MailItem.SentToTriage))


@dataclass
class Effects:
    """What the event store holds, counted per item."""

    received: Counter[UUID] = field(default_factory=Counter)
    decisions: Counter[Any] = field(default_factory=Counter)  # by the notification's id
    opened: Counter[Any] = field(default_factory=Counter)
    extracted: Counter[tuple[UUID, str]] = field(default_factory=Counter)
    cases: dict[UUID, UUID] = field(default_factory=dict)  # first item -> case opened
    events: int = 0


def count_effects(mailroom: Mailroom) -> Effects:
    app = mailroom.app
    effects = Effects()
    wanted = {
        get_topic(MailItem.Received),
        get_topic(MailItem.TextExtracted),
        get_topic(Case.Opened),
        *DECISIONS,
    }
    for notification in app.iter_notifications():
        effects.events += 1
        if notification.topic not in wanted:
            continue
        if notification.topic in DECISIONS:
            effects.decisions[notification.originator_id] += 1
            continue
        event: Any = app.to_domain_event(notification)
        if isinstance(event, MailItem.Received):
            effects.received[event.originator_id] += 1
        elif isinstance(event, Case.Opened):
            effects.opened[event.first_item_id] += 1
            effects.cases[event.first_item_id] = event.originator_id
        elif isinstance(event, MailItem.TextExtracted):
            effects.extracted[(event.originator_id, str(event.blob_key))] += 1
    return effects


def effects_once(mailroom: Mailroom, item_ids: Iterable[UUID]) -> Effects:
    """Every given item exists once and is decided once; nothing in the store is doubled."""
    effects = count_effects(mailroom)
    for item_id in item_ids:
        assert effects.received[item_id] == 1, f"{item_id}: {effects.received[item_id]} Received"
        assert effects.decisions[item_id] == 1, f"{item_id}: {effects.decisions[item_id]} decided"
        assert effects.opened[item_id] <= 1, f"{item_id}: {effects.opened[item_id]} cases opened"
    doubled = {k: n for k, n in effects.extracted.items() if n > 1}
    assert not doubled, f"text extracted twice: {doubled}"
    assert all(n == 1 for n in effects.decisions.values()), "an item was decided twice"
    assert all(n == 1 for n in effects.opened.values()), "an item opened two cases"
    return effects


def _rows(engine: Engine, table: Table, order: Iterable[str]) -> list[tuple[Any, ...]]:
    columns = [c for c in table.columns if c.name != "id"]  # surrogate keys differ
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(*(table.c[name] for name in order)))
        return [tuple(row) for row in rows]


TABLES = (
    (status_items, ("item_id",)),
    (status_timeline, ("item_id", "at", "status", "text")),
    (case_directory, ("case_id",)),
    (case_reference_keys, ("lookup_key", "case_id")),
)


def reconcile_views(mailroom: Mailroom, scratch_views_url: str) -> dict[str, int]:
    """Rebuild the status view and the case directory from the event store into
    ``scratch_views_url`` and assert the live views equal the rebuild, row by row.
    Returns the row count per table."""
    scratch = create_views_engine(scratch_views_url)
    try:
        fresh = build_read_models(scratch, mailroom.catalog)
        replay(mailroom.app, [fresh.status, fresh.case_directory])
        counts = {}
        for table, order in TABLES:
            live = _rows(mailroom.views, table, order)
            rebuilt = _rows(scratch, table, order)
            if live != rebuilt:
                live_set, rebuilt_set = Counter(live), Counter(rebuilt)
                extra = list((live_set - rebuilt_set).elements())[:5]
                missing = list((rebuilt_set - live_set).elements())[:5]
                raise AssertionError(
                    f"{table.name}: live view has {len(live)} rows, rebuild {len(rebuilt)}; "
                    f"only live (doubled/stale): {extra}; only rebuilt (lost): {missing}"
                )
            counts[table.name] = len(live)
        return counts
    finally:
        scratch.dispose()
