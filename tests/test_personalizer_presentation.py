"""Letter-by-letter and date presentation (site/personalizer/letters.py): pure functions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proofmark.personalizer import letters as presentation
from proofmark.personalizer.letters import VISIBLE_SPACE, letter_cells, letters, numeric_dates


def test_letters_split_graphemes_and_show_spaces():
    assert letters("Anna Lee") == ["A", "n", "n", "a", VISIBLE_SPACE, "L", "e", "e"]
    # e + combining acute is one letter, as is a family emoji.
    assert letters("Re\u0301my") == ["R", "e\u0301", "m", "y"]
    assert len(letters("\U0001f468\u200d\U0001f469\u200d\U0001f467")) == 1
    assert letters("") == []


def test_letter_cells_name_easy_to_miss_characters():
    cells = letter_cells("a\u00a0b c")
    assert [c.kind for c in cells] == ["letter", "space", "letter", "space", "letter"]
    assert cells[1].name == "no-break space"
    assert cells[1].shown == VISIBLE_SPACE
    assert [c.position for c in cells] == [1, 2, 3, 4, 5]
    invisible = letter_cells("a\u200bb")
    assert invisible[1].kind == "invisible"
    assert "zero width space" in invisible[1].note


def test_ambiguous_numeric_date_has_both_readings_written_out():
    [mention] = numeric_dates("Anna 03/04/2025")
    assert mention.text == "03/04/2025"
    assert mention.ambiguous
    words = [r.words for r in mention.readings]
    assert words == ["Thursday 3 April 2025", "Tuesday 4 March 2025"]
    assert [r.order for r in mention.readings] == ["day-month-year", "month-day-year"]
    assert mention.reading("month-day-year").iso == "2025-03-04"


def test_unambiguous_dates_have_one_reading():
    assert [r.words for r in numeric_dates("12/25/2024")[0].readings] == ["Wednesday 25 December 2024"]
    assert [r.words for r in numeric_dates("25.12.2024")[0].readings] == ["Wednesday 25 December 2024"]
    assert [r.iso for r in numeric_dates("2025-04-03")[0].readings] == ["2025-04-03"]
    same_both_ways = numeric_dates("05/05/2020")[0]
    assert not same_both_ways.ambiguous and same_both_ways.valid


def test_two_digit_years_and_day_month_only():
    [m] = numeric_dates("3.4.25")
    assert m.ambiguous and m.readings[0].iso == "2025-04-03"
    [m] = numeric_dates("12/3")
    assert [r.words for r in m.readings] == ["12 March", "3 December"]


def test_impossible_dates_are_reported_not_guessed():
    [m] = numeric_dates("29/02/2023")
    assert not m.valid and m.readings == ()
    assert numeric_dates("1/2/3/4") == []
    assert numeric_dates("£12.50") == []
    assert numeric_dates("Anna") == []


def test_jinja_globals_expose_the_helpers():
    assert set(presentation.jinja_globals()) >= {"letter_cells", "numeric_dates", "letters"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_survives_presentation(text):
    assert "".join(c.text for c in letter_cells(text)) == text
    assert len(letters(text)) == len(letter_cells(text))
    for mention in numeric_dates(text):
        assert text[mention.start : mention.end] == mention.text


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 31), st.integers(1, 12), st.integers(1900, 2099))
def test_every_real_date_is_read_back_correctly(day, month, year):
    import datetime as dt

    try:
        date = dt.date(year, month, day)
    except ValueError:
        return
    [m] = numeric_dates(f"{day:02d}/{month:02d}/{year}")
    assert date.isoformat() in [r.iso for r in m.readings]
    assert m.ambiguous == (day != month and day <= 12)
