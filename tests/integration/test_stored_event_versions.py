"""Events stored by earlier versions are read by today's code (upcasters), so an upgraded
install keeps its history: nothing is renamed, old shapes are evolved on reading."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from aggregates.case import Case
from aggregates.mail_item import MailItem
from aggregates.values import RoutingCandidate
from mailroom.bootstrap import Mailroom

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def as_stored_by_v1(mailroom: Mailroom, event, drop: tuple[str, ...], **old_fields):
    """Encode ``event`` as today's code would, then make it look like a v1 record."""
    stored = mailroom.app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    state.pop("class_version", None)
    for name in drop:
        state.pop(name, None)
    state.update(old_fields)
    return mailroom.app.mapper.to_domain_event(replace(stored, state=json.dumps(state).encode()))


def opened_case() -> Case:
    return Case.open(
        reference="LIN-2026-AAAA-BBBB",
        department_id="abfall",
        subject="Sperrmüll",
        party="Eva",
        opened_at=NOW,
        opened_by="system:router",
        first_item_id=uuid4(),
    )


def test_a_v1_case_is_read_with_a_legacy_actor_and_the_catalog_budget(mailroom):
    case = opened_case()
    case.close(NOW, "done", closed_by="staff:eva")
    opened, closed = case.collect_events()
    old_opened = as_stored_by_v1(mailroom, opened, ("opened_by", "processing_days"))
    assert old_opened.opened_by == "system:legacy" and old_opened.processing_days is None
    old_closed = as_stored_by_v1(mailroom, closed, ("closed_by",), outcome="erledigt")
    assert old_closed.closed_by == "system:legacy" and old_closed.outcome == "erledigt"


def test_a_v1_triage_sentence_becomes_a_code_with_the_sentence_kept_as_detail(mailroom):
    item = MailItem(
        channel="scan",
        intake_key=uuid4().hex,
        reference="LIN-2026-CCCC-DDDD",
        received_at=NOW,
        documents=[],
        access_code_hash="x" * 64,
        request_fingerprint="f",
    )
    item.send_to_triage("uncertain", [RoutingCandidate("abfall", 0.4)], warnings=[])
    triaged = item.collect_events()[-1]
    for sentence, code in [
        ("Bitte neu scannen oder von Hand erfassen", "rescan"),
        ("Automatische Zuordnung fehlgeschlagen – bitte von Hand zuordnen", "routing_failed"),
        ("no department above its threshold", "uncertain"),
        ("misdirected: Finanzamt", "misdirected"),
    ]:
        old = as_stored_by_v1(mailroom, triaged, ("code", "detail"), reason=sentence)
        assert (old.code, old.detail) == (code, sentence)


def test_a_v1_text_extraction_has_no_codes(mailroom):
    item = MailItem(
        channel="scan",
        intake_key=uuid4().hex,
        reference="LIN-2026-EEEE-FFFF",
        received_at=NOW,
        documents=[],
        access_code_hash="x" * 64,
        request_fingerprint="f",
    )
    item.texts = {}
    item.documents = [type("D", (), {"blob_key": "k"})()]  # type: ignore[list-item]
    item.record_text("k", "ocr", [], codes=["LIN-2026-AAAA-BBBB"])
    extracted = item.collect_events()[-1]
    old = as_stored_by_v1(mailroom, extracted, ("codes",))
    assert old.codes == [] and extracted.codes == ["LIN-2026-AAAA-BBBB"]


def test_a_v1_station_registration_replaces_no_other_station(mailroom):
    from aggregates.station import ScanningStation

    station = ScanningStation(name="Scanner", token_hash="h" * 64, registered_at=NOW)
    registered = station.collect_events()[0]
    old = as_stored_by_v1(mailroom, registered, ("rotated_from",))
    assert old.rotated_from is None and old.name == "Scanner"
