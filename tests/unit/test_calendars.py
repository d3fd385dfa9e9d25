"""Blackout calendars read from .ics files, and the settings that point at them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scheduler.catalogue.blackouts import load_blackouts
from scheduler.errors import UserError
from scheduler.settings import load_settings
from tests.conftest import ROOT

ALL_DAY = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//FI\r
BEGIN:VEVENT\r
UID:syysloma@test\r
DTSTAMP:20261122T000000Z\r
SUMMARY:Syysloma\r
DTSTART;VALUE=DATE:20261012\r
DTEND;VALUE=DATE:20261017\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:valtuusto@test\r
DTSTAMP:20261122T000000Z\r
SUMMARY:Valtuuston kokous\r
DTSTART;TZID=Europe/Helsinki:20261130T170000\r
DTEND;TZID=Europe/Helsinki:20261130T210000\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_all_day_end_is_exclusive_and_timed_events_block_their_day(tmp_path: Path) -> None:
    (tmp_path / "lomat.ics").write_bytes(ALL_DAY)
    days = load_blackouts(tmp_path).days
    assert sorted(days) == [date(2026, 10, d) for d in range(12, 17)] + [date(2026, 11, 30)]
    assert days[date(2026, 10, 12)] == "Syysloma"


def test_shipped_school_holidays_are_flagged_as_an_example() -> None:
    blackouts = load_blackouts(ROOT / "calendars")
    assert blackouts.examples
    assert date(2026, 10, 14) in blackouts.days  # autumn break, week 42
    assert date(2027, 1, 5) in blackouts.days    # Christmas break


def test_recurring_blackouts_are_refused_with_the_file_named(tmp_path: Path) -> None:
    (tmp_path / "toistuva.ics").write_bytes(ALL_DAY.replace(b"SUMMARY:Syysloma\r\n",
                                                            b"SUMMARY:Syysloma\r\nRRULE:FREQ=YEARLY\r\n"))
    with pytest.raises(UserError) as caught:
        load_blackouts(tmp_path)
    [problem] = caught.value.problems
    assert problem.file.endswith("toistuva.ics") and "recurring" in problem.message


def test_environment_overrides_the_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[planning]\nlanguage = "fi"\nblackout_months = [7]\n', encoding="utf-8")
    settings = load_settings(config, {"YHDYSPINTA_PLANNING_LANGUAGE": "sv",
                                      "YHDYSPINTA_PLANNING_BLACKOUT_MONTHS": "[6, 7]"})
    assert settings.planning.language == "sv"
    assert settings.planning.blackout_months == [6, 7]


def test_a_missing_calendar_folder_is_reported_not_ignored(tmp_path: Path) -> None:
    assert load_blackouts(tmp_path / "nowhere").missing == str(tmp_path / "nowhere")
