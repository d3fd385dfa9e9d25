"""Delivery backends behind the ports of ``ports``, loaded by name from ``[delivery] backend``.

``maildir`` is the embedded default (a standard Maildir any mail client opens); ``smtp``
sends iMIP mail; ``graph`` and ``ews`` keep the meeting in the convener's own mailbox, so
Exchange sends the invitations. ``memory.MemoryBackend`` implements every port in the
process, for tests (it is not a configurable backend).
A backend's library is imported only when it is chosen, so an SMTP-only installation needs
no Exchange packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.errors import UserError

from .ports import Backend, DeliveryRejected, DeliveryUnavailable, Receipt

__all__ = ["Backend", "DeliveryRejected", "DeliveryUnavailable", "Receipt", "load"]

NAMES = ("maildir", "smtp", "graph", "ews")


def load(name: str, *, maildir: Path, options: dict[str, Any] | None = None) -> Backend:
    """The backend called ``name``, built from its config section's keys."""
    try:
        return _build(name, maildir, options or {})
    except ImportError as exc:
        raise UserError(f"[delivery] backend = {name!r} needs its extra: "
                        f"pip install 'yhdyspinta[{name}]' ({exc.name} is missing)") from None
    except ValueError as exc:  # a backend refusing its configuration
        raise UserError(f"[{name}]: {exc}") from None


def _build(name: str, maildir: Path, options: dict[str, Any]) -> Backend:
    if name == "maildir":
        from .maildir import MaildirMailer

        return Backend(MaildirMailer(maildir))
    if name == "smtp":
        from .smtp import SmtpMailer

        return Backend(SmtpMailer(**options))
    if name == "ews":
        from .ews import EwsMailer

        ews = EwsMailer(**options)
        return Backend(ews, events=ews, free_busy=ews, answers=ews)
    if name == "graph":
        from .graph import GraphMailer

        graph = GraphMailer(**options)
        return Backend(graph, events=graph, free_busy=graph, answers=graph)
    raise UserError(f"[delivery] backend: no backend called {name!r}; "
                    f"expected one of {', '.join(NAMES)}")
