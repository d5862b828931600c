"""``mailroom letters list`` and ``mailroom letters render``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailroom.cli import app
from tests.unit.letters.conftest import LINDENAU_LETTERS, TEMPLATES
from tests.unit.letters.helpers import page_codes, page_count


@pytest.fixture(autouse=True)
def _no_letters_dir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILROOM_LETTERS_DIR", raising=False)
    monkeypatch.delenv("MAILROOM_CITY_CATALOG", raising=False)


def test_list_prints_one_template_per_line() -> None:
    run = CliRunner().invoke(app, ["letters", "list"])

    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == list(TEMPLATES)


def test_list_json_prints_the_fields_each_template_needs() -> None:
    run = CliRunner().invoke(app, ["letters", "list", "--json"])

    assert run.exit_code == 0, run.output
    listing = {entry["name"]: entry for entry in json.loads(run.stdout)}
    assert set(listing) == set(TEMPLATES)
    bescheid = listing["bescheid"]
    assert bescheid["title"] == "Bescheid"
    assert bescheid["requires_second_approval"] is True
    assert bescheid["inbox_fallback_days"] == 7
    fields = {field["name"]: field for field in bescheid["fields"]}
    assert fields["decision"] == {
        "name": "decision",
        "label": "Entscheidung (Tenor)",
        "required": True,
        "multiline": True,
        "kind": "text",
    }
    assert fields["recipient.lines"]["kind"] == "list"
    assert listing["eingangsbestaetigung"]["inbox_fallback_days"] is None


def test_the_template_folder_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "briefe"
    folder.mkdir()
    for name in ("begleitschreiben.toml", "begleitschreiben.html.j2", "_stadt.html.j2"):
        shutil.copy(LINDENAU_LETTERS / name, folder / name)
    monkeypatch.setenv("MAILROOM_LETTERS_DIR", str(folder))

    run = CliRunner().invoke(app, ["letters", "list"])

    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == ["begleitschreiben"]


def test_render_without_data_uses_the_sample(tmp_path: Path) -> None:
    out = tmp_path / "bescheid.pdf"

    run = CliRunner().invoke(app, ["letters", "render", "bescheid", "--out", str(out)])

    assert run.exit_code == 0, run.output
    assert "LIN-2026-H4TW-8M2G" in run.stdout
    pdf = out.read_bytes()
    assert page_count(pdf) == 2
    assert [code.text for code in page_codes(pdf, 0)] == ["LIN-2026-H4TW-8M2G"]


def test_render_with_data_puts_its_case_reference_in_the_qr_code(tmp_path: Path) -> None:
    from letters import TemplateLibrary

    data = TemplateLibrary(LINDENAU_LETTERS).info("begleitschreiben").sample
    data = json.loads(json.dumps(data))
    data["info"]["case_reference"] = "LIN-2027-ABCD-EFGH"
    source = tmp_path / "data.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "brief.pdf"

    run = CliRunner().invoke(
        app, ["letters", "render", "begleitschreiben", "--data", str(source), "--out", str(out)]
    )

    assert run.exit_code == 0, run.output
    assert [code.text for code in page_codes(out.read_bytes(), 0)] == ["LIN-2027-ABCD-EFGH"]


def test_render_names_the_missing_fields(tmp_path: Path) -> None:
    source = tmp_path / "data.json"
    source.write_text(json.dumps({"subject": "Betreff"}), encoding="utf-8")
    out = tmp_path / "brief.pdf"

    run = CliRunner().invoke(
        app, ["letters", "render", "bescheid", "--data", str(source), "--out", str(out)]
    )

    assert run.exit_code == 2
    assert "missing" in run.output
    for field in ("recipient.name", "info.case_reference", "decision", "reasoning"):
        assert field in run.output
    assert "subject" not in run.output.split("missing:")[1]
    assert not out.exists()


def test_render_refuses_an_unknown_template(tmp_path: Path) -> None:
    run = CliRunner().invoke(app, ["letters", "render", "mahnung", "--out", str(tmp_path / "x")])

    assert run.exit_code == 2
    assert "unknown letter template 'mahnung'" in run.output
    assert "bescheid" in run.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "is not valid JSON"), ("[1, 2]", "must hold a JSON object"), (None, "cannot read")],
)
def test_render_refuses_unreadable_data(tmp_path: Path, content: str | None, message: str) -> None:
    source = tmp_path / "data.json"
    if content is not None:
        source.write_text(content, encoding="utf-8")

    run = CliRunner().invoke(
        app,
        ["letters", "render", "bescheid", "--data", str(source), "--out", str(tmp_path / "x")],
    )

    assert run.exit_code == 2
    assert message in run.output
    assert "Traceback" not in run.output
