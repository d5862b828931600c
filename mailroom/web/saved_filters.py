"""Saved filters of the department queues: a person's named query strings, per department.

User preferences, not a read model: the table lives in the views database (migration 0004)
but belongs to no projection, so ``projections rebuild`` (which clears only each projection's
own tables) keeps it. Every function takes the owner's principal id: nobody reads or deletes
another person's filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from projections.database import metadata

MAX_NAME = 80
MAX_QUERY = 1000
MAX_PER_DEPARTMENT = 30

saved_filters = Table(
    "saved_filters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal_id", String(200), nullable=False),
    Column("name", String(80), nullable=False),
    Column("department_id", String(100), nullable=False),
    Column("query", String(1000), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_saved_filters_owner", "principal_id", "department_id", "name", unique=True),
)


class SavedFilterError(ValueError):
    """The filter cannot be saved; the message is German, for the page."""


@dataclass(frozen=True)
class SavedFilter:
    id: int
    name: str
    query: str


def clean_name(name: str) -> str:
    """The name as shown: single spaces, no control characters."""
    printable = "".join(c if c.isprintable() else " " for c in name)
    return " ".join(printable.split())


def list_filters(views: Engine, principal_id: str, department_id: str) -> list[SavedFilter]:
    statement = (
        select(saved_filters.c.id, saved_filters.c.name, saved_filters.c.query)
        .where(
            saved_filters.c.principal_id == principal_id,
            saved_filters.c.department_id == department_id,
        )
        .order_by(func.lower(saved_filters.c.name), saved_filters.c.id)
    )
    with views.connect() as conn:
        return [SavedFilter(int(i), n, q) for i, n, q in conn.execute(statement)]


def save_filter(
    views: Engine,
    principal_id: str,
    department_id: str,
    name: str,
    query: str,
    now: Callable[[], datetime],
) -> bool:
    """Save ``query`` under ``name``; a filter of that name is replaced. True if it is new."""
    name = clean_name(name)
    if not name:
        raise SavedFilterError("Bitte geben Sie dem Filter einen Namen.")
    if len(name) > MAX_NAME:
        raise SavedFilterError(f"Der Name darf höchstens {MAX_NAME} Zeichen lang sein.")
    if len(query) > MAX_QUERY:
        raise SavedFilterError("Dieser Filter ist zu lang, um ihn zu speichern.")
    owner = (
        saved_filters.c.principal_id == principal_id,
        saved_filters.c.department_id == department_id,
    )
    with views.begin() as conn:
        replaced = conn.execute(
            update(saved_filters)
            .where(*owner, saved_filters.c.name == name)
            .values(query=query, created_at=now())
        ).rowcount
        if replaced:
            return False
        count = conn.execute(
            select(func.count()).select_from(saved_filters).where(*owner)
        ).scalar_one()
        if count >= MAX_PER_DEPARTMENT:
            raise SavedFilterError(
                f"Sie haben bereits {MAX_PER_DEPARTMENT} Filter für diesen Fachdienst "
                "gespeichert. Bitte löschen Sie zuerst einen."
            )
        conn.execute(
            insert(saved_filters).values(
                principal_id=principal_id,
                department_id=department_id,
                name=name,
                query=query,
                created_at=now(),
            )
        )
    return True


def delete_filter(views: Engine, principal_id: str, department_id: str, filter_id: int) -> str:
    """Delete one of the person's filters; returns its name ("" if there was none)."""
    owner = (
        saved_filters.c.id == filter_id,
        saved_filters.c.principal_id == principal_id,
        saved_filters.c.department_id == department_id,
    )
    with views.begin() as conn:
        name = conn.execute(select(saved_filters.c.name).where(*owner)).scalar_one_or_none()
        if name is not None:
            conn.execute(delete(saved_filters).where(*owner))
    return name or ""
