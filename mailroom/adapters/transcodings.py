"""JSON transcodings so that the aggregates' value objects survive the event store."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from aggregates.values import (
    Applicant,
    Document,
    PageText,
    QualityIssue,
    RoutingCandidate,
    Submission,
)


class DataclassAsDict(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._tuple_fields = {
            f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")
        }

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        values = {k: tuple(v) if k in self._tuple_fields else v for k, v in data.items()}
        return self.type(**values)


class DateAsISO(Transcoding):
    """Calendar dates (due dates); datetimes have their own transcoding in the library."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


VALUE_OBJECTS = (Document, Applicant, Submission, PageText, QualityIssue, RoutingCandidate)


def register_value_objects(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for cls in VALUE_OBJECTS:
        transcoder.register(DataclassAsDict(cls))
