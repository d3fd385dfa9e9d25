"""The safe YAML reader on its own: plain values, lines, and the traps it refuses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scheduler.catalogue.yamlsource import YamlProblems, load_yaml


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return load_yaml(path).data


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(YamlProblems) as caught:
        load(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_values_follow_yaml_12_with_dates(tmp_path: Path) -> None:
    data = load(tmp_path, 'a: true\nb: 12\nc: "no"\nd: 2026-02-18\ne: ~\nf: 1.5\ng: teksti\n')
    assert data == {"a": True, "b": 12, "c": "no", "d": date(2026, 2, 18), "e": None, "f": 1.5,
                    "g": "teksti"}


@pytest.mark.parametrize("word", ["y", "N", "yes", "off", "12:30", "00100", "0x1F", "1_000"])
def test_yaml_11_traps_are_refused_with_the_quoted_spelling(tmp_path: Path, word: str) -> None:
    [message] = problems(tmp_path, f"key: {word}\n")
    assert message.startswith(f"{tmp_path / 'x.yaml'}:1: key: unquoted '{word}'")
    assert f'"{word}"' in message


@pytest.mark.parametrize(
    ("word", "meant"),
    [("no", "false for the yes/no value"), ("N", "false for the yes/no value"),
     ("yes", "true for the yes/no value"), ("on", "true for the yes/no value"),
     ("00100", "100 for the number"), ("05", "5 for the number"), ("0x1F", "31 for the number"),
     ("1_000", "1000 for the number")],
)
def test_a_yaml_11_trap_also_offers_the_value_that_may_be_meant(
    tmp_path: Path, word: str, meant: str
) -> None:
    """``party: no`` means false and ``months: [05]`` means 5: quoting alone would not fit."""
    [message] = problems(tmp_path, f"key: {word}\n")
    assert f'write "{word}" in quotes' in message
    assert message.endswith(f", or write {meant}")


@pytest.mark.parametrize("word", ["9:00", "12:30"])
def test_an_unquoted_time_is_refused_with_the_quoted_time(tmp_path: Path, word: str) -> None:
    [message] = problems(tmp_path, f"start: {word}\n")
    assert message.endswith(f'write "{word}" in quotes for a time of day or text')


def test_quoted_dates_and_times_come_through_as_text(tmp_path: Path) -> None:
    """The schema reads them (``Day``, ``Clock``); plain 09:00 is text to YAML 1.1 as well."""
    data = load(tmp_path, 'd: "2026-02-18"\nt: "9:00"\nu: 09:00\nf: "13.00"\n')
    assert data == {"d": "2026-02-18", "t": "9:00", "u": "09:00", "f": "13.00"}


@pytest.mark.parametrize("text", ['a: !foo "x"\n', "a: !!python/object:os.system x\n"])
def test_tags_are_refused(tmp_path: Path, text: str) -> None:
    [message] = problems(tmp_path, text)
    assert "tags" in message


@pytest.mark.parametrize("depth", [41, 999, 5000])
def test_deep_nesting_is_refused_in_our_words(tmp_path: Path, depth: int) -> None:
    [message] = problems(tmp_path, "x: " + "[" * depth + "]" * depth + "\n")
    assert message.endswith(":1: nested deeper than 40 levels")


def test_lines_are_recorded_for_every_key(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b:\n    - c: 1\n    - c: 2\n", encoding="utf-8")
    document = load_yaml(path)
    assert document.line_of(("a", "b", 1, "c")) == 4
    assert document.line_of(("a", "b", 1, "missing")) == 4
