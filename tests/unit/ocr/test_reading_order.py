"""Reading order of side-by-side blocks at the top of a letter (DIN 5008)."""

from ocr.reading_order import reading_order_text
from ocr.tesseract import Word

WIDTH, HEIGHT = 2480, 3508  # A4 at 300 dpi


def line(number: int, top: int, *parts: tuple[int, str]) -> list[Word]:
    """Words of one Tesseract line: (left, text) per part, words 20 px apart."""
    words = []
    for left, text in parts:
        x = left
        for token in text.split():
            width = 25 * len(token)
            words.append(Word(token, 90.0, x, top, width, 40, (1, 1, number)))
            x += width + 20
    return words


def test_the_address_window_is_read_before_the_information_block_beside_it() -> None:
    words = [
        *line(1, 500, (1480, "Ihr Zeichen: 63-BA-2026-0234")),
        *line(2, 560, (280, "Stadt Lindenau"), (1480, "Bearbeiter: Herr Kurz")),
        *line(3, 620, (280, "Bauaufsicht"), (1480, "Telefon: 0281 1234")),
        *line(4, 680, (280, "Rathausplatz 1"), (1480, "Datum: 02.03.2026")),
        *line(5, 740, (280, "47131 Lindenau")),
        *line(
            6, 1000, (280, "Sehr geehrte Damen und Herren, wir bitten um eine Antwort zur Sache.")
        ),
    ]
    assert reading_order_text(words, WIDTH, HEIGHT).splitlines() == [
        "Stadt Lindenau",
        "Bauaufsicht",
        "Rathausplatz 1",
        "47131 Lindenau",
        "Ihr Zeichen: 63-BA-2026-0234",
        "Bearbeiter: Herr Kurz",
        "Telefon: 0281 1234",
        "Datum: 02.03.2026",
        "Sehr geehrte Damen und Herren, wir bitten um eine Antwort zur Sache.",
    ]


def test_a_table_further_down_the_page_stays_row_by_row() -> None:
    words = [
        *line(1, 2000, (280, "Gebühr"), (1480, "12,00 EUR")),
        *line(2, 2060, (280, "Porto"), (1480, "1,10 EUR")),
        *line(3, 2120, (280, "Summe"), (1480, "13,10 EUR")),
    ]
    assert reading_order_text(words, WIDTH, HEIGHT).splitlines() == [
        "Gebühr 12,00 EUR",
        "Porto 1,10 EUR",
        "Summe 13,10 EUR",
    ]


def test_a_form_row_of_labels_and_values_is_not_torn_apart() -> None:
    words = [
        *line(1, 600, (280, "Datum der Genehmigung"), (1480, "Beginn der Arbeiten")),
        *line(2, 660, (280, "11.12.2025"), (1480, "09.03.2026")),
    ]
    assert reading_order_text(words, WIDTH, HEIGHT).splitlines() == [
        "Datum der Genehmigung Beginn der Arbeiten",
        "11.12.2025 09.03.2026",
    ]


def test_ordinary_lines_keep_tesseracts_order() -> None:
    words = [*line(1, 300, (280, "Erste Zeile")), *line(2, 360, (280, "Zweite Zeile"))]
    assert reading_order_text(words, WIDTH, HEIGHT) == "Erste Zeile\nZweite Zeile"
    assert reading_order_text([], WIDTH, HEIGHT) == ""
