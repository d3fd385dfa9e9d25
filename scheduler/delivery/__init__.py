"""Delivery backends behind one small protocol, loaded by name from ``[delivery] backend``.

This stage ships ``maildir`` (the embedded default: a standard Maildir any mail client
opens) and ``smtp``; ``graph`` and ``ews`` follow behind the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Receipt:
    """What the backend says it did: the remote id (a Maildir key, a Graph event id)."""

    remote_id: str


class DeliveryRejected(Exception):
    """Final: this message will never go (a refused address, a 5xx). Recorded, not retried."""


class DeliveryUnavailable(Exception):
    """Transient: try again later (a 4xx, a timeout, a full disk)."""


class Mailer(Protocol):
    name: ClassVar[str]

    def send(self, message: EmailMessage, key: str) -> Receipt:
        """Deliver one message; ``key`` is its outbox key. Raise DeliveryRejected or
        DeliveryUnavailable; anything else is a bug."""
        ...

    def close(self) -> None:
        """Release connections at the end of a run."""
        ...


def load(name: str, *, maildir: Path, smtp: dict[str, Any] | None = None) -> Mailer:
    """The backend called ``name``, built from its config keys (imported only when chosen)."""
    if name == "maildir":
        from .maildir import MaildirMailer

        return MaildirMailer(maildir)
    if name == "smtp":
        from .smtp import SmtpMailer

        return SmtpMailer(**(smtp or {}))
    raise LookupError(f"no delivery backend called {name!r} in this version; "
                      "expected 'maildir' or 'smtp'")
