"""The command line's edges, in plain words and without a traceback (issues 8 and 9): a
meeting nobody convenes, an unknown meeting, a file where a folder is wanted."""

from __future__ import annotations

import os

import pytest

from tests.integration.conftest import Installation, at


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


@pytest.mark.parametrize("command", [["move", "2027-01-19T10:00"], ["cancel"]])
def test_a_meeting_without_a_convener_is_changed_and_nobody_is_told(
    installation: Installation, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """The schedule keeps every meeting (issue 9), so one the documents name no convener
    for is changed like any other; there is nobody to send anything, and the run says so."""
    uid = "kuntajohtajakokous-for-2027-1@yhdyspinta"  # listed by `plan`, convened by nobody
    code = installation.run(command[0], uid, *command[1:], now=at(2027, 1, 5))
    out = capsys.readouterr().out
    assert code == 0
    assert uid in out and "no convener is named for kuntajohtajakokous: nobody is told" in out
    assert not [m for m in installation.messages() if str(m["X-Yhdyspinta-Meeting"]) == uid]


def test_an_unknown_meeting_is_named(installation: Installation,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = installation.run("cancel", "kokous-2027-9@yhdyspinta", now=at(2027, 1, 5))
    assert code == 2 and "no meeting with UID 'kokous-2027-9@yhdyspinta'" in capsys.readouterr().err


def test_plan_ics_onto_a_file_is_refused(installation: Installation,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    target = installation.root / "plan.ics"
    target.write_text("", encoding="utf-8")
    code = installation.run("plan", "--ics", str(target), now=at(2027, 1, 5))
    err = capsys.readouterr().err
    assert code == 2 and "a file is there; give a folder" in err and "Traceback" not in err


def test_simulate_into_a_file_is_refused(installation: Installation,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    target = installation.root / "sim"
    target.write_text("", encoding="utf-8")
    code = installation.run("simulate", "--from", "2027-01-01", "--to", "2027-01-31",
                            "--outbox", str(target), now=at(2027, 1, 5))
    err = capsys.readouterr().err
    assert code == 2 and "a file is there; give a folder" in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == ""
