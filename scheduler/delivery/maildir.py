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
        del key  # the Message-ID identifies the message
        if again:  # a process killed after the write and before recording it: look first
            found = self._find(str(message["Message-ID"] or ""))
            if found is not None:
                return Receipt(found)
        try:
            data = message.as_bytes()
            with _ADDING:
                remote_id = self.box.add(data)
        except OSError as exc:  # a full disk or lost permission: try again later
            raise DeliveryUnavailable(f"cannot write to {self.path}: {exc.strerror}") from exc
        return Receipt(remote_id)

    def _find(self, message_id: str) -> str | None:
        """The name of a message already in the box with ``message_id``: only its header
        is read, so looking costs a few hundred bytes a message (once per uncertain row)."""
        wanted = f"Message-ID: {message_id}".encode().lower()
        for folder in ("new", "cur"):
            for file in sorted((self.path / folder).glob("*")):
                try:
                    with file.open("rb") as handle:
                        head = handle.read(4096).lower()
                except OSError:
                    continue
                if message_id and wanted in head.split(b"\n\n", 1)[0].replace(b"\r", b""):
                    return file.name.split(":", 1)[0]
        return None

    def close(self) -> None:
        self.box.close()
