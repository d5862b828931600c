"""Labelled example letters in the corpus format."""

import json

import pytest

from routing import Example, ExamplesError, Reroute, load_examples
from routing.examples import labelled_letters
from tests.unit.routing.builders import catalog


def write_examples(folder, records, texts):
    folder.mkdir()
    (folder / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    for letter_id, text in texts.items():
        (folder / letter_id).mkdir()
        (folder / letter_id / "text.txt").write_text(text, encoding="utf-8")


def test_examples_are_read_from_labels_and_letter_folders(tmp_path):
    folder = tmp_path / "train"
    write_examples(
        folder,
        [
            {"id": "a-1", "department": "abfall", "files": {"text": "a-1/text.txt"}},
            {"id": "a-2", "department": "misdirected"},
        ],
        {"a-1": "Sperrmüll bitte\n", "a-2": "Rabatt!\n"},
    )
    assert load_examples(folder) == [
        Example("a-1", "abfall", "Sperrmüll bitte\n"),
        Example("a-2", "misdirected", "Rabatt!\n"),
    ]


def test_letters_without_text_are_read_through_the_hook(tmp_path):
    folder = tmp_path / "train"
    write_examples(
        folder, [{"id": "s-1", "department": "tiefbau", "files": {"pdf": "s-1/letter.pdf"}}], {}
    )
    (folder / "s-1").mkdir()
    seen = []

    def read_text(letter_folder, record):
        seen.append((letter_folder.name, record["files"]["pdf"]))
        return "Schlagloch"

    assert load_examples(folder, read_text)[0].text == "Schlagloch"
    assert seen == [("s-1", "s-1/letter.pdf")]
    with pytest.raises(ExamplesError, match="no text reader"):
        load_examples(folder)


def test_a_broken_labels_file_names_the_line(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "labels.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(ExamplesError, match=r"labels\.jsonl:1"):
        load_examples(folder)


def test_labels_must_name_known_departments(tmp_path):
    with pytest.raises(ExamplesError, match="unknown department 'bauamt'"):
        labelled_letters(catalog(tmp_path), [Example("x", "bauamt", "text")], [])
    with pytest.raises(ExamplesError, match="re-routing of item-9"):
        labelled_letters(catalog(tmp_path), [], [Reroute("item-9", "text", "nowhere")])
