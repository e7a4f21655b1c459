"""The one reader of yes/no and point-in-time parameters (app/services/validation.py), which the search,
compare, photo-upload and project-deletion parameters all go through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.services.errors import ValidationError
from app.services.validation import flag_arg, time_arg


@pytest.mark.parametrize("raw", ["true", "1", "yes", "on", "TRUE", " Yes "])
def test_yes_words(raw):
    assert flag_arg({"x": raw}, "x") is True


@pytest.mark.parametrize("raw", ["false", "0", "no", "off", "Off"])
def test_no_words(raw):
    assert flag_arg({"x": raw}, "x", default=True) is False


def test_absent_or_empty_is_the_default():
    assert flag_arg({}, "x") is False
    assert flag_arg({"x": ""}, "x", default=True) is True


@pytest.mark.parametrize("raw", ["maybe", "2", 1, ["true"]])
def test_anything_else_is_refused_naming_the_parameter(raw):
    with pytest.raises(ValidationError) as caught:
        flag_arg({"cascade": raw}, "cascade")
    assert caught.value.field == "cascade" and caught.value.status == 422


def test_a_date_means_the_end_of_that_day_utc():
    assert time_arg({"at": "2026-03-01"}, "at") == datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)


def test_a_time_keeps_its_offset_and_a_naive_one_is_utc():
    assert time_arg({"at": "2026-03-01T10:00:00+02:00"}, "at") == datetime(
        2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert time_arg({"at": "2026-03-01T10:00:00z"}, "at") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert time_arg({"at": "2026-03-01T10:00"}, "at") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert time_arg({}, "at") is None and time_arg({"at": " "}, "at") is None


def test_a_bad_time_is_refused_naming_the_parameter():
    with pytest.raises(ValidationError) as caught:
        time_arg({"since": "last tuesday"}, "since")
    assert caught.value.field == "since"

