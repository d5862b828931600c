"""The city catalog: departments (Fachdienste), the services each handles, and what the router
needs to know about them.

Loaded from a TOML file (the sample city ships one in ``mailroom/cities``) or from a
``departments.json`` in the corpus format. Plain data, no I/O beyond reading the file.

Besides id, name, description and services, a department may carry the knowledge an
administrator writes down for the router (all optional):

- ``aliases``: names people use for the office ("Einwohnermeldeamt", "Zulassungsstelle");
- ``keywords``: what it handles in the words citizens use ("Schlagloch", "Tonne nicht geleert");
- ``reference_formats``: its file-number formats, e.g. ``"36.2-FE-NNNN/YY"`` (see
  ``routing.reference_formats`` for the notation);
- ``threshold``: the confidence an automatic routing to it needs;
- ``processing_days``: its processing deadline in working days (default 20); a service may set
  its own, else it has its department's;
- per service, ``synonyms``: what citizens call it (also English and Turkish where common), for
  routing a letter to the service (``routing.services``).

City-wide: ``[city] land`` (the Land whose public holidays are no working days, default ``NW``),
``[city] reference_formats`` (department-neutral formats such as the portal's),
``[routing]`` defaults, ``[[misdirected]]`` vocabulary groups for mail that is not for the city
(Finanzamt, Jobcenter, advertising, ...; ``recipients``: the authority's names in an address
block, ``advertising = true`` for advertising) and ``[[rules]]`` that decide before the classifier.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aggregates.deadlines import LANDS
from routing.reference_formats import ReferenceFormatError, compile_format

MISDIRECTED = "misdirected"
"""Pseudo-department id of mail that is not for the city at all."""
TRIAGE = "triage"
"""Rule target that sends an item to the triage queue."""
DEFAULT_PROCESSING_DAYS = 20
"""A department's processing deadline in working days when the catalog names none."""


class CatalogError(ValueError):
    """The catalog file is missing, malformed or inconsistent."""


class UnknownServiceError(KeyError):
    """No service with this key exists in the catalog."""


class UnknownDepartmentError(KeyError):
    """No department with this id exists in the catalog."""


@dataclass(frozen=True)
class Contact:
    """How citizens reach an office: shown on the status page and printed on letters."""

    street: str = ""
    postcode_city: str = ""
    phone: str = ""
    email: str = ""
    web: str = ""
    opening_hours: str = ""

    def merged_over(self, fallback: Contact) -> Contact:
        """This contact, with the fallback's value wherever this one has none."""
        return Contact(
            **{
                name: getattr(self, name) or getattr(fallback, name)
                for name in self.__dataclass_fields__
            }
        )


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    department_id: str
    processing_days: int | None = None
    """Working days to process; None: the department's."""
    acknowledge_scans: bool | None = None
    """Send scanned letters of this service an Eingangsbestätigung; None: the department's."""
    synonyms: tuple[str, ...] = ()
    """What citizens call it (also English, Turkish): lets a letter be routed to the service."""


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    description: str
    services: tuple[Service, ...] = ()
    keywords: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    reference_formats: tuple[str, ...] = ()
    threshold: float | None = None
    processing_days: int = DEFAULT_PROCESSING_DAYS
    contact: Contact = Contact()
    acknowledge_scans: bool = True
    """Scanned letters whose sender address was read get an Eingangsbestätigung by post."""


@dataclass(frozen=True)
class City:
    name: str
    reference_prefix: str
    reference_formats: tuple[str, ...] = ()
    land: str = "NW"
    """Land code (``NW``, ``BE``, ...): whose public holidays count as no working days."""
    contact: Contact = Contact()


@dataclass(frozen=True)
class MisdirectionGroup:
    """Vocabulary of mail meant for someone else; ``addressee`` is shown to the clerk.
    ``recipients``: how that authority is named in a letter's address block ("Finanzamt",
    "Agentur für Arbeit"); ``advertising``: the group describes advertising, not an authority."""

    addressee: str
    keywords: tuple[str, ...]
    recipients: tuple[str, ...] = ()
    advertising: bool = False


@dataclass(frozen=True)
class Rule:
    """If any phrase of ``any_of`` (and every phrase of ``all_of``) occurs, decide ``target``:
    a department id, ``"misdirected"`` or ``"triage"``."""

    name: str
    target: str
    any_of: tuple[str, ...]
    all_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingSettings:
    default_threshold: float = 0.6
    misdirected_threshold: float = 0.5


@dataclass(frozen=True)
class Catalog:
    city: City
    departments: tuple[Department, ...]
    misdirection: tuple[MisdirectionGroup, ...] = ()
    rules: tuple[Rule, ...] = ()
    settings: RoutingSettings = RoutingSettings()
    _services: dict[str, Service] = field(init=False, repr=False, compare=False)
    _departments: dict[str, Department] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        departments = {d.id: d for d in self.departments}
        if len(departments) != len(self.departments):
            raise CatalogError("department ids must be unique")
        if MISDIRECTED in departments or TRIAGE in departments:
            raise CatalogError(f"{MISDIRECTED!r} and {TRIAGE!r} are reserved department ids")
        services: dict[str, Service] = {}
        for department in self.departments:
            for service in department.services:
                if service.key in services:
                    raise CatalogError(f"service key {service.key!r} is used twice")
                services[service.key] = service
        object.__setattr__(self, "_services", services)
        object.__setattr__(self, "_departments", departments)
        self._validate()

    def _validate(self) -> None:
        land = self.city.land
        if not isinstance(land, str) or land not in LANDS:
            known = ", ".join(sorted(LANDS))
            raise CatalogError(f"[city] land {land!r} is not a German Land code ({known})")
        for rule in self.rules:
            if rule.target not in self._departments and rule.target not in (MISDIRECTED, TRIAGE):
                raise CatalogError(f"rule {rule.name!r} targets unknown department {rule.target!r}")
            if not rule.any_of:
                raise CatalogError(f"rule {rule.name!r} needs at least one phrase in 'any'")
        thresholds = [d.threshold for d in self.departments if d.threshold is not None]
        thresholds += [self.settings.default_threshold, self.settings.misdirected_threshold]
        if any(not 0.0 < t <= 1.0 for t in thresholds):
            raise CatalogError("thresholds must lie in (0, 1]")
        for pattern in self.city.reference_formats + tuple(
            p for d in self.departments for p in d.reference_formats
        ):
            try:
                compile_format(pattern)
            except ReferenceFormatError as exc:
                raise CatalogError(str(exc)) from exc

    def service(self, key: str) -> Service:
        try:
            return self._services[key]
        except KeyError:
            raise UnknownServiceError(key) from None

    def department(self, department_id: str) -> Department:
        try:
            return self._departments[department_id]
        except KeyError:
            raise UnknownDepartmentError(department_id) from None

    def services(self) -> list[Service]:
        return list(self._services.values())

    def department_ids(self) -> list[str]:
        return [d.id for d in self.departments]

    def threshold_for(self, department_id: str) -> float:
        """The confidence an automatic decision for this department (or misdirection) needs."""
        if department_id == MISDIRECTED:
            return self.settings.misdirected_threshold
        threshold = self.department(department_id).threshold
        return self.settings.default_threshold if threshold is None else threshold

    def processing_days(self, department_id: str, service_key: str | None) -> int:
        """Working days a case of this department (and service) has: the service's own value
        if it sets one and belongs to the department, else the department's (also for a case
        re-routed elsewhere or whose service has left the catalog)."""
        department = self.department(department_id)
        service = self._services.get(service_key or "")
        if service and service.department_id == department_id and service.processing_days:
            return service.processing_days
        return department.processing_days

    def contact(self, department_id: str) -> Contact:
        """The department's contact, completed by the city's (switchboard, town hall)."""
        return self.department(department_id).contact.merged_over(self.city.contact)

    def acknowledges_scans(self, department_id: str, service_key: str | None) -> bool:
        department = self.department(department_id)
        service = self._services.get(service_key) if service_key else None
        if service is not None and service.acknowledge_scans is not None:
            return service.acknowledge_scans
        return department.acknowledge_scans

    def reference_formats(self) -> list[tuple[str, str | None]]:
        """Every reference format with the department it belongs to (None: city-wide)."""
        owned = [(p, d.id) for d in self.departments for p in d.reference_formats]
        return owned + [(p, None) for p in self.city.reference_formats]

    @classmethod
    def load(cls, path: Path | str) -> Catalog:
        """Load a catalog from a ``.toml`` file or a corpus-style ``departments.json``."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CatalogError(f"cannot read catalog {path}: {exc.strerror}") from exc
        try:
            if path.suffix == ".json":
                return cls.from_departments_json(json.loads(raw))
            return cls.from_toml(tomllib.loads(raw.decode("utf-8")))
        except CatalogError as exc:
            raise CatalogError(f"catalog {path}: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise CatalogError(f"catalog {path} is malformed: {exc}") from exc

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> Catalog:
        city_data = data["city"]
        city = City(
            name=city_data["name"],
            reference_prefix=city_data["reference_prefix"],
            reference_formats=_strings(city_data, "reference_formats"),
            land=city_data.get("land", "NW"),
            contact=_contact(city_data.get("contact", {})),
        )
        departments = tuple(_department_from_toml(d) for d in data["departments"])
        misdirection = tuple(
            MisdirectionGroup(
                addressee=g["addressee"],
                keywords=_strings(g, "keywords"),
                recipients=_strings(g, "recipients"),
                advertising=_optional_bool(g, "advertising", f"group {g['addressee']!r}") is True,
            )
            for g in data.get("misdirected", [])
        )
        rules = tuple(
            Rule(
                name=r["name"],
                target=r["target"],
                any_of=_strings(r, "any"),
                all_of=_strings(r, "all"),
            )
            for r in data.get("rules", [])
        )
        routing = data.get("routing", {})
        settings = RoutingSettings(
            default_threshold=float(routing.get("default_threshold", 0.6)),
            misdirected_threshold=float(routing.get("misdirected_threshold", 0.5)),
        )
        return cls(city, departments, misdirection, rules, settings)

    @classmethod
    def from_departments_json(cls, data: list[dict[str, Any]], city: City | None = None) -> Catalog:
        """Build a catalog from the corpus format: ``[{id, name, description, services[]}]``."""
        departments = tuple(
            Department(
                id=d["id"],
                name=d["name"],
                description=d.get("description", ""),
                services=tuple(
                    Service(key=service_key(name), name=name, department_id=d["id"])
                    for name in d.get("services", [])
                ),
            )
            for d in data
        )
        return cls(city=city or City(name="Stadt", reference_prefix="LIN"), departments=departments)


def _department_from_toml(d: dict[str, Any]) -> Department:
    threshold = d.get("threshold")
    days = _working_days(d, f"department {d['id']!r}")
    return Department(
        id=d["id"],
        name=d["name"],
        description=d.get("description", ""),
        services=tuple(
            Service(
                key=s["key"],
                name=s["name"],
                department_id=d["id"],
                processing_days=_working_days(s, f"service {s['key']!r}"),
                acknowledge_scans=_optional_bool(s, "acknowledge_scans", f"service {s['key']!r}"),
                synonyms=_strings(s, "synonyms"),
            )
            for s in d.get("services", [])
        ),
        keywords=_strings(d, "keywords"),
        aliases=_strings(d, "aliases"),
        reference_formats=_strings(d, "reference_formats"),
        threshold=None if threshold is None else float(threshold),
        processing_days=DEFAULT_PROCESSING_DAYS if days is None else days,
        contact=_contact(d.get("contact", {})),
        acknowledge_scans=_optional_bool(d, "acknowledge_scans", f"department {d['id']!r}")
        is not False,
    )


def _contact(table: dict[str, Any]) -> Contact:
    unknown = set(table) - set(Contact.__dataclass_fields__)
    if unknown:
        raise CatalogError(f"unknown contact fields: {', '.join(sorted(unknown))}")
    return Contact(**{name: str(value) for name, value in table.items()})


def _optional_bool(table: dict[str, Any], key: str, owner: str) -> bool | None:
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise CatalogError(f"{owner}: {key} must be true or false")
    return value


def _working_days(table: dict[str, Any], owner: str) -> int | None:
    value = table.get("processing_days")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(f"{owner}: processing_days must be a whole number of working days, >= 1")
    return value


def _strings(table: dict[str, Any], key: str) -> tuple[str, ...]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CatalogError(f"{key!r} must be a list of strings")
    return tuple(values)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def service_key(name: str) -> str:
    """A stable slug for a service name:
    ``"Reisepass / Kinderreisepass"`` -> ``reisepass-kinderreisepass``."""
    head = re.split(r"[(:]", name, maxsplit=1)[0].lower().translate(_UMLAUTS)
    ascii_text = unicodedata.normalize("NFKD", head).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:4])
