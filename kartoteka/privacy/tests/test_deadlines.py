"""Legal due dates per jurisdiction: working days skip weekends (and listed holidays),
calendar periods don't, EU months clamp to the month's end."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from kartoteka.privacy import deadlines

FRIDAY = datetime.date(2026, 3, 6)


def test_ru_ten_working_days_from_a_friday_skip_two_weekends():
    # Mon 9 .. Fri 13 (5), Mon 16 .. Fri 20 (10)
    assert deadlines.due_date("ru", FRIDAY) == datetime.date(2026, 3, 20)


def test_ru_extension_adds_five_working_days():
    due = deadlines.due_date("ru", FRIDAY)

    assert deadlines.extended_due_date("ru", FRIDAY, due) == datetime.date(2026, 3, 27)


def test_ua_thirty_calendar_days_include_weekends():
    assert deadlines.due_date("ua", FRIDAY) == datetime.date(2026, 4, 5)  # a Sunday


def test_cn_fifteen_working_days_from_a_friday():
    assert deadlines.due_date("cn", FRIDAY) == datetime.date(2026, 3, 27)


def test_eu_one_month_is_the_same_day_next_month():
    assert deadlines.due_date("eu", FRIDAY) == datetime.date(2026, 4, 6)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), datetime.date(2028, 2, 29)),
        (datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)),
        (datetime.date(2026, 12, 15), datetime.date(2027, 1, 15)),
    ],
)
def test_eu_month_end_is_clamped(received, due):
    assert deadlines.due_date("eu", received) == due


def test_eu_extension_is_three_months_from_receipt_not_from_the_clamped_date():
    received = datetime.date(2026, 1, 31)
    due = deadlines.due_date("eu", received)

    assert deadlines.extended_due_date("eu", received, due) == datetime.date(2026, 4, 30)


def test_only_ru_and_eu_can_extend():
    assert [j for j in ("ru", "ua", "cn", "eu") if deadlines.can_extend(j)] == ["ru", "eu"]


def test_listed_holidays_are_skipped(settings):
    settings.KARTOTEKA_HOLIDAYS = ["2026-03-09", "2026-03-10"]

    assert deadlines.due_date("ru", FRIDAY) == datetime.date(2026, 3, 24)


def test_a_bad_holiday_is_a_configuration_error(settings):
    settings.KARTOTEKA_HOLIDAYS = ["9 March"]

    with pytest.raises(ImproperlyConfigured):
        deadlines.due_date("ru", FRIDAY)
