"""The city catalog: departments (Fachdienste) and the services each handles.

Loaded from a TOML file (the sample city ships one in ``mailroom/cities``) or from a
``departments.json`` in the corpus format. Plain data, no I/O beyond reading the file.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CatalogError(ValueError):
    """The catalog file is missing, malformed or inconsistent."""


class UnknownServiceError(KeyError):
    """No service with this key exists in the catalog."""


class UnknownDepartmentError(KeyError):
    """No department with this id exists in the catalog."""


@dataclass(frozen=True)
class Service:
    key: str
    name: str
    department_id: str


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    description: str
    services: tuple[Service, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class City:
    name: str
    reference_prefix: str


@dataclass(frozen=True)
class Catalog:
    city: City
    departments: tuple[Department, ...]
    _services: dict[str, Service] = field(init=False, repr=False, compare=False)
    _departments: dict[str, Department] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        departments = {d.id: d for d in self.departments}
        if len(departments) != len(self.departments):
            raise CatalogError("department ids must be unique")
        services: dict[str, Service] = {}
        for department in self.departments:
            for service in department.services:
                if service.key in services:
                    raise CatalogError(f"service key {service.key!r} is used twice")
                services[service.key] = service
        object.__setattr__(self, "_services", services)
        object.__setattr__(self, "_departments", departments)

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
        except (ValueError, KeyError, TypeError) as exc:
            raise CatalogError(f"catalog {path} is malformed: {exc}") from exc

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> Catalog:
        city = City(name=data["city"]["name"], reference_prefix=data["city"]["reference_prefix"])
        departments = tuple(
            Department(
                id=d["id"],
                name=d["name"],
                description=d.get("description", ""),
                services=tuple(
                    Service(key=s["key"], name=s["name"], department_id=d["id"])
                    for s in d.get("services", [])
                ),
                keywords=tuple(d.get("keywords", [])),
            )
            for d in data["departments"]
        )
        return cls(city=city, departments=departments)

    @classmethod
    def from_departments_json(
        cls, data: list[dict[str, Any]], city: City | None = None
    ) -> Catalog:
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


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def service_key(name: str) -> str:
    """A stable slug for a service name: ``"Reisepass / Kinderreisepass"`` -> ``reisepass-kinderreisepass``."""
    head = re.split(r"[(:]", name, maxsplit=1)[0].lower().translate(_UMLAUTS)
    ascii_text = unicodedata.normalize("NFKD", head).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:4])
