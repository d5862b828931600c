from routing.sender import letter_sender


def test_the_sender_block_at_the_top_names_the_party():
    text = "Hans Meier\nAm Markt 3\n12345 Lindenau\n\nStadt Lindenau\nRathausplatz 1\n\nBetreff"
    assert letter_sender(text) == ("Hans Meier", "Am Markt 3, 12345 Lindenau")


def test_a_letter_without_a_sender_block_names_nobody():
    assert letter_sender("Sehr geehrte Damen und Herren,\nbitte um Rückruf.") == ("", "")
    assert letter_sender("Stadt Lindenau\nRathausplatz 1\n47137 Lindenau") == ("", "")


def test_the_subject_is_the_betreff_or_the_line_before_the_salutation():
    from routing.sender import letter_subject

    assert letter_subject("A\nBetreff: Sperrmüll\nSehr geehrte Damen") == "Sperrmüll"
    assert letter_subject("Anmeldung Hund\nSehr geehrte Damen und Herren,\nx") == "Anmeldung Hund"
    rueckruf = (
        "Hans Meier\nAm Markt 3\n12345 Lindenau\n\nSehr geehrte Damen und Herren,\n"
        "bitte um Rückruf."
    )
    assert letter_subject(rueckruf) == "bitte um Rückruf."
