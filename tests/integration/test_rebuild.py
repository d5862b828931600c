"""Rebuilt read models equal the live ones: `mailroom projections rebuild` replays the event
store into every view of the one list and ends where the live consumers ended."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from sqlalchemy import select
from typer.testing import CliRunner

from aggregates.station import ScanningStation, hash_token
from mailroom.auth.principal import Principal, Role, system_principal
from mailroom.bootstrap import Mailroom
from mailroom.cli import app
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf

CLERK = Principal(
    "staff:erika", "erika", "Erika", frozenset({Role.CLERK}), frozenset({"standesamt"})
)


def snapshot(mailroom: Mailroom) -> dict[str, list[tuple]]:
    """Every row of every view, without surrogate ids (they are numbered anew)."""
    rows: dict[str, list[tuple]] = {}
    with mailroom.views.connect() as conn:
        for projection in mailroom.projections:
            for table in projection.tables:
                columns = [c for c in table.columns if c.name != "id"]
                found = conn.execute(select(*columns)).all()
                rows[table.name] = sorted(tuple(str(v) for v in row) for row in found)
    return rows


def test_a_rebuild_gives_the_same_views_as_live_processing(mailroom, monkeypatch):
    for service in ("geburtsurkunde", "defekte-oder-gestohlene-tonne", "eheurkunde"):
        mailroom.intake.submit(submission(service_key=service), [], uuid4().hex)
    station = ScanningStation(name="S", token_hash=hash_token("x"), registered_at=FakeClock()())
    mailroom.app.save(station)
    unclear = text_pdf(["Sehr geehrte Damen und Herren,\nbitte um Rückruf."])
    scanned = mailroom.intake.scan(station, [Upload("brief.pdf", unclear)], None)
    mailroom.runner.run_until_idle()
    mailroom.runner.run_until_idle()
    admin = system_principal("test")
    mailroom.services.triage.route(admin, scanned.item_id, "standesamt", "Rückruf")
    cases = mailroom.services.workspace.queue(admin, "standesamt").rows
    first = cases[0].reference
    casework = mailroom.services.casework
    casework.take(CLERK, first)
    casework.add_note(CLERK, first, "Rückruf erledigt")
    casework.request_information(CLERK, first, "Bitte Ausweis", date(2099, 1, 5))
    casework.receive_information(CLERK, first)
    casework.extend_deadline(CLERK, first, 5, "complex")
    casework.close(CLERK, first, "done")
    mailroom.runner.run_until_idle()
    live = snapshot(mailroom)
    assert live["case_timeline"] and live["item_view"] and live["search_documents"]

    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", mailroom.settings.secret_key.get_secret_value())
    rebuilt = CliRunner().invoke(app, ["projections", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert snapshot(mailroom) == live
