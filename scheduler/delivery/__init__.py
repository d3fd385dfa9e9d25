"""Delivery backends behind one small protocol, loaded by name from ``[delivery] backend``.

``maildir`` is the embedded default (a standard Maildir any mail client opens); ``smtp``
sends iMIP mail; ``graph`` and ``ews`` create the meeting in the convener's own mailbox
(``events.EventMailer``), so Exchange sends the invitations.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Protocol

from scheduler.errors import UserError


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

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """Deliver one message; ``key`` is its outbox key. Raise DeliveryRejected or
        DeliveryUnavailable; anything else is a bug. ``again``: an earlier attempt of this
        row ended uncertain (a timeout after the request went); a backend that can look
        (graph, ews: the sender's Sent Items) finds it there instead of sending twice."""
        ...

    def close(self) -> None:
        """Release connections at the end of a run."""
        ...


def load(name: str, *, maildir: Path, options: dict[str, Any] | None = None) -> Mailer:
    """The backend called ``name``, built from its config section's keys; its library is
    imported only when chosen, so an SMTP-only installation needs no Exchange packages."""
    try:
        if name == "maildir":
            from .maildir import MaildirMailer

            return MaildirMailer(maildir)
        if name == "smtp":
            from .smtp import SmtpMailer

            return SmtpMailer(**(options or {}))
        if name == "ews":
            from .ews import EwsMailer

            return EwsMailer(**(options or {}))
        if name == "graph":
            from .graph import GraphMailer

            return GraphMailer(**(options or {}))
    except ImportError as exc:
        raise UserError(f"[delivery] backend = {name!r} needs its extra: "
                        f"pip install 'yhdyspinta[{name}]' ({exc.name} is missing)") from None
    except ValueError as exc:  # a backend refusing its configuration
        raise UserError(f"[{name}]: {exc}") from None
    raise UserError(f"[delivery] backend: no backend called {name!r}; "
                    "expected maildir, smtp, graph or ews")
