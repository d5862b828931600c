"""The query string of a department queue (``/fachdienste/{id}?status=…``): German parameter
names and values, read leniently (an unknown value is ignored, never an error page) and
written back canonically — the form that saved filters store and that redirects keep.

Parameters: ``status`` (neu, in-bearbeitung, wartet, abgeschlossen; empty: all not closed),
``bearbeitung`` (niemand, ich, or a staff member's principal id), ``leistung`` (a service key
of the department), ``frist`` (ueberfaellig, gefaehrdet, wartet), ``aelter_als`` (calendar
days since the case was opened), ``sortierung`` (frist, eingang, aktenzeichen) and ``nach``
(the keyset cursor of the next page; not part of a saved filter).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from aggregates.deadlines import DeadlineFlag
from mailroom.auth.principal import Principal
from projections.cases import NO_ASSIGNEE, QueueFilter

STATUSES = {
    "neu": "open",
    "in-bearbeitung": "in_progress",
    "wartet": "waiting",
    "abgeschlossen": "closed",
}
FLAGS = {
    "ueberfaellig": DeadlineFlag.OVERDUE,
    "gefaehrdet": DeadlineFlag.AT_RISK,
    "wartet": DeadlineFlag.PAUSED,
}
SORTS = {"frist": "due", "eingang": "opened", "aktenzeichen": "reference"}
DEFAULT_SORT = "frist"
NOBODY = "niemand"
ME = "ich"
MAX_DAYS = 3650
MAX_VALUE = 200
FILTER_PARAMS = ("status", "bearbeitung", "leistung", "frist", "aelter_als")
CURSOR_PARAM = "nach"
DAYS_ERROR = f"Bitte geben Sie eine ganze Zahl von Tagen zwischen 1 und {MAX_DAYS} an."


@dataclass(frozen=True)
class QueueQuery:
    status: str = ""
    assignee: str = ""
    service: str = ""
    flag: str = ""
    older_than: str = ""  # as typed (shown again with ``errors`` when it is not a number)
    sort: str = DEFAULT_SORT
    cursor: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: Mapping[str, str], services: Collection[str]) -> QueueQuery:
        """Read the parameters; values that mean nothing here are dropped."""

        def value(name: str) -> str:
            return str(params.get(name, "")).strip()[:MAX_VALUE]

        errors: dict[str, str] = {}
        older = value("aelter_als")
        if older and not (older.isdecimal() and 1 <= int(older) <= MAX_DAYS):
            errors["aelter_als"] = DAYS_ERROR
        sort = value("sortierung")
        return cls(
            status=_known(value("status"), STATUSES),
            assignee=value("bearbeitung"),
            service=_known(value("leistung"), services),
            flag=_known(value("frist"), FLAGS),
            older_than=older,
            sort=sort if sort in SORTS else DEFAULT_SORT,
            cursor=str(params.get(CURSOR_PARAM, ""))[:MAX_VALUE],
            errors=errors,
        )

    @classmethod
    def from_query_string(cls, query: str, services: Collection[str]) -> QueueQuery:
        return cls.parse(dict(parse_qsl(query.lstrip("?"))), services)

    @property
    def older_than_days(self) -> int | None:
        return int(self.older_than) if self.older_than and "aelter_als" not in self.errors else None

    @property
    def service_sort(self) -> str:
        return SORTS[self.sort]

    @property
    def is_filtered(self) -> bool:
        return any((self.status, self.assignee, self.service, self.flag, self.older_than))

    def filters(self, principal: Principal) -> QueueFilter:
        assignee = {"": None, NOBODY: NO_ASSIGNEE, ME: principal.id}.get(
            self.assignee, self.assignee
        )
        return QueueFilter(
            statuses=frozenset({STATUSES[self.status]}) if self.status else None,
            assignee_id=assignee,
            service_key=self.service or None,
            flag=FLAGS[self.flag] if self.flag else None,
            older_than_days=self.older_than_days,
        )

    def query_string(self, *, cursor: bool = False) -> str:
        """Canonical: fixed order, no empty values, the default sort left out."""
        pairs = [
            ("status", self.status),
            ("bearbeitung", self.assignee),
            ("leistung", self.service),
            ("frist", self.flag),
            ("aelter_als", str(self.older_than_days or "")),
            ("sortierung", "" if self.sort == DEFAULT_SORT else self.sort),
            (CURSOR_PARAM, self.cursor if cursor else ""),
        ]
        return urlencode([(k, v) for k, v in pairs if v])

    def first_page(self) -> QueueQuery:
        return replace(self, cursor="")


def _known(value: str, known: Collection[str]) -> str:
    return value if value in known else ""
