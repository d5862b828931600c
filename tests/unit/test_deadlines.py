"""Processing deadlines in working days: the Land's public holidays, weekends, pauses,
extensions, the flags, and the catalog's processing_days."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from aggregates.deadlines import (
    LANDS,
    Deadline,
    DeadlineFlag,
    Pause,
    UnknownLandError,
    WorkingCalendar,
    calendar_for,
    shift_for_open_pause,
)
from routing import Catalog, CatalogError
from routing.catalog import UnknownDepartmentError
from tests.unit.routing.builders import CATALOG_TOML

SAMPLE_CITY = (
    Path(__file__).resolve().parents[2] / "mailroom" / "cities" / "lindenau" / "catalog.toml"
)
NW = calendar_for("NW")
BE = calendar_for("BE")


# --- the calendar ---------------------------------------------------------------------------


def test_fronleichnam_is_a_holiday_in_nrw_but_a_working_day_in_berlin():
    corpus_christi = date(2026, 6, 4)  # a Thursday
    assert not NW.is_working_day(corpus_christi)
    assert BE.is_working_day(corpus_christi)


def test_the_same_start_falls_due_later_in_nrw_than_in_berlin_around_fronleichnam():
    start = date(2026, 6, 3)  # Wednesday before Corpus Christi
    assert NW.add_working_days(start, 1) == date(2026, 6, 5)
    assert BE.add_working_days(start, 1) == date(2026, 6, 4)
    assert NW.add_working_days(start, 5) == date(2026, 6, 11)
    assert BE.add_working_days(start, 5) == date(2026, 6, 10)


def test_allerheiligen_moves_a_deadline_in_nrw_but_not_in_berlin():
    all_saints = date(2024, 11, 1)  # a Friday
    start = date(2024, 10, 31)
    assert NW.add_working_days(start, 1) == date(2024, 11, 4)
    assert BE.add_working_days(start, 1) == all_saints
    deadline = Deadline(started_on=date(2024, 10, 21), budget_days=10)
    assert deadline.due_on(NW, date(2024, 10, 21)) == date(2024, 11, 5)
    assert deadline.due_on(BE, date(2024, 10, 21)) == date(2024, 11, 4)


def test_christmas_and_new_year_are_skipped_across_the_turn_of_the_year():
    start = date(2026, 12, 23)  # Wednesday; 25 Dec is Friday, 1 Jan 2027 is Friday
    assert NW.add_working_days(start, 1) == date(2026, 12, 24)
    assert NW.add_working_days(start, 2) == date(2026, 12, 28)
    assert NW.add_working_days(start, 5) == date(2026, 12, 31)
    assert NW.add_working_days(start, 6) == date(2027, 1, 4)
    assert NW.working_days_between(start, date(2027, 1, 4)) == 6


def test_weekends_are_no_working_days():
    friday = date(2026, 1, 9)
    assert NW.is_working_day(friday)
    assert not NW.is_working_day(friday + timedelta(days=1))
    assert not NW.is_working_day(friday + timedelta(days=2))
    assert NW.add_working_days(friday, 1) == date(2026, 1, 12)
    assert NW.working_days_between(friday, date(2026, 1, 11)) == 0


def test_zero_working_days_is_the_start_itself_or_the_next_working_day():
    assert NW.add_working_days(date(2026, 1, 9), 0) == date(2026, 1, 9)
    assert NW.add_working_days(date(2026, 1, 10), 0) == date(2026, 1, 12)  # Saturday
    assert NW.add_working_days(date(2026, 6, 4), 0) == date(2026, 6, 5)  # Fronleichnam


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError, match="negative"):
        NW.add_working_days(date(2026, 1, 9), -1)


def test_working_days_between_counts_the_end_not_the_start_and_is_negative_backwards():
    monday, friday = date(2026, 1, 5), date(2026, 1, 9)
    assert NW.working_days_between(monday, friday) == 4
    assert NW.working_days_between(friday, monday) == -4
    assert NW.working_days_between(monday, monday) == 0


def test_adding_the_working_days_between_two_dates_lands_on_the_later_one():
    start = date(2026, 5, 1)
    for offset in range(120):
        day = start + timedelta(days=offset)
        if NW.is_working_day(day):
            assert NW.add_working_days(start, NW.working_days_between(start, day)) == day


@pytest.mark.parametrize("land", ["XX", "nw", "Augsburg", ""])
def test_an_unknown_land_is_refused_by_name(land):
    with pytest.raises(UnknownLandError, match=f"unknown German Land {land!r}"):
        WorkingCalendar(land)
    with pytest.raises(ValueError):
        calendar_for(land)


def test_all_sixteen_laender_are_known_and_their_calendars_are_shared():
    assert len(LANDS) == 16 and {"NW", "BE", "BY", "SN"} <= set(LANDS)
    assert calendar_for("NW") is NW


# --- one case's deadline --------------------------------------------------------------------

START = date(2026, 3, 2)  # a Monday; March 2026 has no holiday in NW


def test_the_budget_is_counted_in_working_days_from_the_start():
    assert Deadline(started_on=START, budget_days=10).due_on(NW, START) == date(2026, 3, 16)


def test_an_extension_adds_working_days():
    deadline = Deadline(started_on=START, budget_days=10, extension_days=5)
    assert deadline.due_on(NW, START) == date(2026, 3, 23)


def test_a_finished_pause_moves_the_deadline_by_its_working_days():
    pause = Pause(start=date(2026, 3, 4), end=date(2026, 3, 9))  # Thu, Fri, Mon
    deadline = Deadline(started_on=START, budget_days=10, pauses=(pause,))
    assert deadline.due_on(NW, date(2026, 4, 20)) == date(2026, 3, 19)
    assert deadline.assess(NW, date(2026, 3, 10)).flag is not DeadlineFlag.PAUSED


def test_an_open_pause_keeps_moving_the_deadline_as_time_passes():
    deadline = Deadline(started_on=START, budget_days=10, pauses=(Pause(date(2026, 3, 4)),))
    assert deadline.due_on(NW, date(2026, 3, 4)) == date(2026, 3, 16)
    assert deadline.due_on(NW, date(2026, 3, 9)) == date(2026, 3, 19)
    assert deadline.due_on(NW, date(2026, 3, 11)) == date(2026, 3, 23)
    assert deadline.paused_since == date(2026, 3, 4)


def test_finished_and_open_pauses_and_an_extension_add_up():
    deadline = Deadline(
        started_on=START,
        budget_days=10,
        pauses=(Pause(date(2026, 3, 4), date(2026, 3, 9)), Pause(date(2026, 3, 16))),
        extension_days=2,
    )
    # 10 + 2 + 3 (finished) + 2 (open since Mon 16 until Wed 18) = 17 working days
    assert deadline.due_on(NW, date(2026, 3, 18)) == date(2026, 3, 25)


def test_the_read_model_helper_matches_the_deadline_while_paused():
    deadline = Deadline(started_on=START, budget_days=10, pauses=(Pause(date(2026, 3, 4)),))
    stored = deadline.base_due_on(NW)
    assert stored == date(2026, 3, 16)
    for offset in range(40):
        today = date(2026, 3, 4) + timedelta(days=offset)
        shifted = shift_for_open_pause(NW, stored, deadline.paused_since, today)
        assert shifted == deadline.due_on(NW, today)


def test_the_read_model_helper_leaves_an_unpaused_due_date_alone():
    assert shift_for_open_pause(NW, date(2026, 3, 16), None, date(2026, 5, 1)) == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("today", "left", "flag"),
    [
        (date(2026, 3, 2), 20, DeadlineFlag.ON_TRACK),
        (date(2026, 3, 23), 5, DeadlineFlag.ON_TRACK),
        (date(2026, 3, 24), 4, DeadlineFlag.AT_RISK),  # budget 20: at risk from 4 days left
        (date(2026, 3, 30), 0, DeadlineFlag.AT_RISK),
        (date(2026, 3, 31), -1, DeadlineFlag.OVERDUE),
    ],
)
def test_each_flag_follows_the_working_days_left(today, left, flag):
    state = Deadline(started_on=START, budget_days=20).assess(NW, today)
    assert state.due_on == date(2026, 3, 30)
    assert (state.working_days_left, state.flag) == (left, flag)


def test_a_short_budget_is_at_risk_from_two_working_days_left():
    deadline = Deadline(started_on=START, budget_days=5)  # due Mon 9 March
    assert deadline.assess(NW, date(2026, 3, 4)).flag is DeadlineFlag.ON_TRACK
    assert deadline.assess(NW, date(2026, 3, 5)).flag is DeadlineFlag.AT_RISK


def test_a_paused_deadline_is_flagged_paused_even_when_late():
    deadline = Deadline(started_on=START, budget_days=5, pauses=(Pause(date(2026, 3, 20)),))
    state = deadline.assess(NW, date(2026, 3, 25))
    assert state.flag is DeadlineFlag.PAUSED
    assert state.flag == "paused"


def test_nonsense_deadlines_are_refused():
    with pytest.raises(ValueError, match="budget_days"):
        Deadline(started_on=START, budget_days=0)
    with pytest.raises(ValueError, match="extension_days"):
        Deadline(started_on=START, budget_days=5, extension_days=-1)
    with pytest.raises(ValueError, match="one open pause"):
        Deadline(started_on=START, budget_days=5, pauses=(Pause(START), Pause(START)))
    with pytest.raises(ValueError, match="before it starts"):
        Pause(start=date(2026, 3, 5), end=date(2026, 3, 4))


# --- the catalog ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_city_lies_in_nrw_and_sets_realistic_processing_days():
    sample = Catalog.load(SAMPLE_CITY)
    assert sample.city.land == "NW"
    assert sample.processing_days("standesamt", "geburtsurkunde") == 5
    assert sample.processing_days("sozialamt", "wohngeld") == 30
    assert sample.processing_days("bauaufsicht", "bauantrag-baugenehmigung") == 60


def test_a_service_without_its_own_days_has_its_departments(tmp_path):
    path = write(
        tmp_path,
        CATALOG_TOML.replace(
            'name = "Abfallwirtschaft"\n', 'name = "Abfallwirtschaft"\nprocessing_days = 7\n'
        ).replace('name = "Geburtsurkunde"\n', 'name = "Geburtsurkunde"\nprocessing_days = 5\n'),
    )
    c = Catalog.load(path)
    assert c.processing_days("abfall", "sperrmuell") == 7
    assert c.processing_days("abfall", None) == 7
    assert c.processing_days("standesamt", "geburtsurkunde") == 5
    assert c.processing_days("standesamt", None) == 20  # the default


def test_a_service_of_another_department_or_gone_from_the_catalog_falls_back(tmp_path):
    c = Catalog.load(
        write(
            tmp_path,
            CATALOG_TOML.replace('"Geburtsurkunde"\n', '"Geburtsurkunde"\nprocessing_days = 5\n'),
        )
    )
    assert c.processing_days("abfall", "geburtsurkunde") == 20  # re-routed case
    assert c.processing_days("standesamt", "no-longer-offered") == 20
    with pytest.raises(UnknownDepartmentError):
        c.processing_days("bauamt", None)


def test_a_city_without_a_land_lies_in_nrw(tmp_path):
    assert Catalog.load(write(tmp_path, CATALOG_TOML)).city.land == "NW"


def test_a_city_in_berlin_is_accepted(tmp_path):
    text = CATALOG_TOML.replace('reference_prefix = "TST"', 'reference_prefix = "TST"\nland = "BE"')
    assert Catalog.load(write(tmp_path, text)).city.land == "BE"


@pytest.mark.parametrize("land", ['"Nordrhein-Westfalen"', '"XX"', "5"])
def test_an_unknown_land_is_refused_with_a_clear_error(tmp_path, land):
    text = CATALOG_TOML.replace(
        'reference_prefix = "TST"', f'reference_prefix = "TST"\nland = {land}'
    )
    with pytest.raises(CatalogError, match=r"\[city\] land .* is not a German Land code"):
        Catalog.load(write(tmp_path, text))


@pytest.mark.parametrize("value", ["0", '"zwanzig"', "true", "2.5"])
def test_a_bad_processing_days_value_names_the_department_or_service(tmp_path, value):
    department = CATALOG_TOML.replace(
        'name = "Abfallwirtschaft"\n', f'name = "Abfallwirtschaft"\nprocessing_days = {value}\n'
    )
    with pytest.raises(CatalogError, match="department 'abfall': processing_days"):
        Catalog.load(write(tmp_path, department))
    service = CATALOG_TOML.replace(
        'name = "Sperrmüll-Termin"\n', f'name = "Sperrmüll-Termin"\nprocessing_days = {value}\n'
    )
    with pytest.raises(CatalogError, match="service 'sperrmuell': processing_days"):
        Catalog.load(write(tmp_path, service))
