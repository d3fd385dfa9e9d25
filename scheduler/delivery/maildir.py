"""The ``maildir`` backend: every message into a standard Maildir (``tmp/``, ``new/``,
``cur/``) that Thunderbird, mutt or any IMAP server can open. Delivery is atomic: the
``mailbox`` module writes into ``tmp/`` and renames into ``new/``."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

from . import DeliveryUnavailable, Receipt


class MaildirMailer:
    name: ClassVar[str] = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)  # Maildir(create=True) makes one level
        self.box = mailbox.Maildir(str(path), create=True)

    def send(self, message: EmailMessage, key: str) -> Receipt:
        del key  # the Message-ID already identifies the message
        try:
            remote_id = self.box.add(message.as_bytes())
        except OSError as exc:  # a full disk or lost permission: try again later
            raise DeliveryUnavailable(f"cannot write to {self.path}: {exc.strerror}") from exc
        return Receipt(remote_id)

    def close(self) -> None:
        self.box.close()
