"""The ``maildir`` backend: every message into a standard Maildir (``tmp/``, ``new/``,
``cur/``) that Thunderbird, mutt or any IMAP server can open. Delivery is atomic: the
``mailbox`` module writes into ``tmp/`` and renames into ``new/``.

Safe with several delivery threads: ``mailbox.Maildir`` names each file from the time in
microseconds, the process id and a class-wide counter that it reads and raises without a
lock, so two threads in the same microsecond could pick the same name and fail with
``ExternalClashError``. One lock per process serialises ``add``."""

from __future__ import annotations

import mailbox
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

from .ports import DeliveryUnavailable, MessageSender, Receipt

# Per process, not per mailer: the counter in the file names is ``Maildir._count``, a class
# attribute shared by every Maildir object.
_ADDING = threading.Lock()


class MaildirMailer(MessageSender):
    name: ClassVar[str] = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)  # Maildir(create=True) makes one level
        self.box = mailbox.Maildir(str(path), create=True)

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        del key, again  # the Message-ID identifies the message; a write is never uncertain
        try:
            data = message.as_bytes()
            with _ADDING:
                remote_id = self.box.add(data)
        except OSError as exc:  # a full disk or lost permission: try again later
            raise DeliveryUnavailable(f"cannot write to {self.path}: {exc.strerror}") from exc
        return Receipt(remote_id)

    def close(self) -> None:
        self.box.close()
