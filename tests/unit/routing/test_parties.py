"""Party and address evidence: exact on folded words, so look-alikes stay apart."""

from routing.parties import LetterWords, parse_address, parse_party


def test_shared_surnames_and_several_parties_are_split():
    party = parse_party("Peter und Sabine Hakvoort; Jan Schulte")
    assert [(p.first_names, p.surname) for p in party.persons] == [
        (("peter",), "hakvoort"),
        (("sabine",), "hakvoort"),
        (("jan",), "schulte"),
    ]


def test_organisations_remarks_and_anonymous_parties():
    assert parse_party("anonym (Portal)").anonymous
    undertaker = parse_party("Bestattungshaus Kemper (für Hildegard Brenner)")
    assert undertaker.organisations == (("bestattungshaus", "kemper"),)
    assert [p.surname for p in undertaker.persons] == ["brenner"]
    assert [p.surname for p in parse_party("Christian Ebbing (Halter)").persons] == ["ebbing"]


def test_a_first_name_must_be_written_out_next_to_the_surname():
    daniel = parse_party("Daniel Krüger").persons[0]
    assert not LetterWords("Daniela Krüger, Weberstraße 22").has_person(daniel)
    assert not LetterWords("D. Krüger").has_person(daniel)
    assert LetterWords("Krueger, Daniel").has_person(daniel)
    wrobel = parse_party("Agnieszka Wróbel").persons[0]
    assert LetterWords("Agnieszka Wrobel").has_person(wrobel)


def test_house_numbers_match_exactly_or_within_a_range():
    words = LetterWords("wohnhaft Weberstr. 22\nund Schillerstraße 14")
    assert words.has_address(parse_address("Weberstraße 22, 47131 Lindenau"))
    assert not words.has_address(parse_address("Weberstraße 2, 47131 Lindenau"))
    assert words.has_address(parse_address("Schillerstraße 12–16, 47132 Lindenau"))
    assert not LetterWords("Im Krähenwinkel 11\nIch").has_address(
        parse_address("Im Krähenwinkel 1")
    )
    assert LetterWords("Im Krähenwinkel 11\nIch").has_address(parse_address("Im Krähenwinkel 11"))
