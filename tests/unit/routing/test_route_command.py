"""``mailroom route``: an administrator tries a configuration on letters."""

import json

from typer.testing import CliRunner

from mailroom.cli import app
from tests.unit.routing.builders import write_catalog


def corpus(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    records = [
        ("t-1", "abfall", "Bitte holen Sie unseren Sperrmüll ab: ein Sofa und ein Schrank."),
        ("t-2", "tiefbau", "Im Gehweg ist ein Schlagloch, eine echte Stolperfalle."),
        ("t-3", "standesamt", "Ich brauche eine Geburtsurkunde für meine Tochter."),
    ]
    (train / "labels.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "department": d}) for i, d, _ in records) + "\n"
    )
    for letter_id, _, text in records:
        (train / letter_id).mkdir()
        (train / letter_id / "text.txt").write_text(text, encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps(
            {
                "case": "SP-26-07731",
                "department": "abfall",
                "service": "Sperrmüll-Termin",
                "subject": "Sperrmüllabholung",
                "party": "Udo Kamp",
                "address": "Sonnenweg 19, 12345 Testhausen",
                "status": "open",
            }
        )
        + "\n"
    )
    return train, cases


def test_route_prints_one_json_object_per_file(tmp_path):
    train, cases = corpus(tmp_path)
    follow_up = tmp_path / "follow_up.txt"
    follow_up.write_text(
        "Udo Kamp\nSonnenweg 19\nAuftrag SP-26-07731\nDer Sperrmüll wurde nicht abgeholt.\n"
    )
    pothole = tmp_path / "pothole.txt"
    pothole.write_text("Vor unserem Haus ist ein tiefes Schlagloch im Gehweg.\n")
    result = CliRunner().invoke(
        app,
        [
            "route",
            str(follow_up),
            str(pothole),
            "--departments",
            str(write_catalog(tmp_path)),
            "--examples",
            str(train),
            "--cases",
            str(cases),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["file"] == str(follow_up)
    assert (first["department"], first["case"], first["triage"]) == ("abfall", "SP-26-07731", False)
    assert first["references"][0]["reference"] == "SP-26-07731"
    assert second["department"] == "tiefbau"
    assert {"confidence", "candidates", "reason"} <= set(second)


def test_unreadable_files_are_named_and_make_the_exit_status_non_zero(tmp_path):
    train, _ = corpus(tmp_path)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    good = tmp_path / "good.txt"
    good.write_text("Schlagloch im Gehweg\n")
    result = CliRunner().invoke(
        app,
        [
            "route",
            str(empty),
            str(good),
            "--departments",
            str(write_catalog(tmp_path)),
            "--examples",
            str(train),
        ],
    )
    assert result.exit_code == 1
    assert "empty.pdf: empty file" in result.output
    assert "good.txt: tiefbau" in result.output


def test_a_broken_catalog_is_reported_without_a_traceback(tmp_path):
    train, _ = corpus(tmp_path)
    broken = tmp_path / "broken.toml"
    broken.write_text("[city\n")
    result = CliRunner().invoke(
        app, ["route", str(train), "--departments", str(broken), "--examples", str(train)]
    )
    assert result.exit_code == 2
    assert "malformed" in result.output
