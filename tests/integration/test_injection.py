"""Injection corpora through the whole pipeline: a body's name (the title) and people's
names and addresses end up in headers and calendars, and must stay data (issue 3)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar

from scheduler.cli import main
from tests.conftest import ROOT
from tests.integration.conftest import Installation, contacts_yaml

CORPUS = [
    "Kokous\r\nBcc: evil@example.com",
    "Kokous\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil",
    "Kokous\u2028ATTENDEE:mailto:evil@example.com",
    "Kokous=?UTF-8?Q?=0A?=Bcc: evil@example.com",
    'Kokous "lainaus"; pilkku, kenoviiva \\ END:VCALENDAR',
]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


def evil_catalogue(tmp_path: Path, name: str) -> Path:
    bodies = tmp_path / "bodies"
    shutil.copytree(ROOT / "bodies", bodies)
    path = bodies / "vaikuttamisryhma.yaml"
    data = path.read_text(encoding="utf-8")
    quoted = yaml.safe_dump(name, allow_unicode=True, default_style='"').strip().removesuffix("...").strip()
    path.write_text(data.replace('fi: "Keski-Suomen vaikuttamisryhmä"', f"fi: {quoted}", 1), encoding="utf-8")
    return bodies


@pytest.mark.parametrize("evil", CORPUS)
def test_names_stay_data_in_headers_and_calendars(installation: Installation, evil: str) -> None:
    bodies = evil_catalogue(installation.root, evil)
    installation.write_contacts(contacts_yaml([
        {"name": evil, "email": "henkilo@liitto.example", "organisation": "liitto",
         "bodies": ["vaikuttamisryhma"]},
        {"name": "Osoite", "email": "x@jyvaskyla.example\r\nBcc: evil@example.com",
         "organisation": "jyvaskyla", "bodies": ["vaikuttamisryhma"]},
    ]))
    code = main(["--config", str(installation.root / "yhdyspinta.toml"), "--bodies", str(bodies),
                 "dispatch", "--until", "2027-04-01T00:00"], now=datetime(2027, 3, 1, 8, tzinfo=UTC))
    assert code == 1  # the broken address is reported
    messages = [m for m in installation.messages()
                if str(m["X-Yhdyspinta-Meeting"]).startswith("vaikuttamisryhma")]
    assert messages
    for message in messages:
        assert message["Bcc"] is None
        assert len(message.get_all("Subject") or []) == 1
        assert all("evil@example.com" not in a.addr_spec for a in message["To"].addresses)
        for part in message.walk():
            if part.get_content_type() != "text/calendar":
                continue
            raw = part.get_content().encode()
            calendar = Calendar.from_ical(raw)
            events: list[Any] = calendar.walk("VEVENT")
            assert len(events) == 1
            assert str(events[0]["UID"]).startswith("vaikuttamisryhma")
            attendees = [str(a) for a in events[0].get("ATTENDEE", [])]
            assert not any("evil" in a for a in attendees)
            assert raw.split(b"\r\n").count(b"END:VCALENDAR") == 1
