"""A whole installation in ``tmp_path``: config, contacts, SQLite store and Maildir outbox,
over the real catalogue, calendars and mail templates."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import yaml

from scheduler.cli import main
from tests.conftest import ROOT

SWEDISH = "anna.svensson@hva.example"
BROKEN = "rikki osoite@keuruu.example"  # a space: not an address


def contacts_yaml(extra_people: list[dict[str, object]] | None = None, *, swedish: bool = True,
                  omit: str | None = None) -> str:
    organisations = yaml.safe_load((ROOT / "bodies" / "organisations.yaml").read_text("utf-8"))
    data = {
        "coordinator": {"name": "Koordinaattori", "email": "koordinaattori@liitto.example"},
        "organisations": {o["id"]: {"email": f"kirjaamo@{o['id']}.example"}
                          for o in organisations["organisations"] if o["id"] != omit},
        "people": [
            *([{"name": "Anna Svensson", "email": SWEDISH, "organisation": "hva", "language": "sv",
                "bodies": ["kuntakokous"]}] if swedish else []),
            {"name": "Rikki Osoite", "email": BROKEN, "organisation": "keuruu",
             "bodies": ["kuntakokous"]},
            *(extra_people or []),
        ],
    }
    return yaml.safe_dump(data, allow_unicode=True)


@dataclass
class Installation:
    root: Path

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    def run(self, *argv: str, now: datetime) -> int:
        return main(["--config", str(self.root / "yhdyspinta.toml"), "--bodies", str(ROOT / "bodies"),
                     *argv], now=now)

    def messages(self, folder: Path | None = None) -> list[EmailMessage]:
        box = mailbox.Maildir(str(folder or self.outbox), create=False)
        found = [message_from_bytes(box.get_bytes(key), policy=default) for key in box.keys()]  # noqa: SIM118 - Maildir keys
        return [m for m in found if isinstance(m, EmailMessage)]

    def write_contacts(self, text: str) -> None:
        (self.root / "contacts.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def installation(tmp_path: Path) -> Installation:
    config = f"""
[planning]
calendars = "{ROOT / 'calendars'}"
[database]
url = "sqlite:///{tmp_path / 'state.db'}"
[delivery]
backend = "maildir"
maildir = "{tmp_path / 'outbox'}"
feeds = "{tmp_path / 'feeds'}"
[messages]
templates = "{ROOT / 'templates' / 'mail'}"
contacts = "{tmp_path / 'contacts.yaml'}"
"""
    (tmp_path / "yhdyspinta.toml").write_text(config, encoding="utf-8")
    found = Installation(tmp_path)
    found.write_contacts(contacts_yaml())
    return found


def at(year: int, month: int, day: int, hour: int = 8) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


Runner = Callable[..., int]
