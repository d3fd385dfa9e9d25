"""The ``smtp`` backend: iMIP mail to any server, none / STARTTLS / TLS, with authentication.

Connections are reused for a whole run: a small pool, one connection for each thread
sending at the same time (the pipeline's ``[delivery] workers``), so at most that many are
open, and ``close()`` ends them all. Every message has a single recipient, so a refused
address fails only its own message. Replies follow RFC 5321 4.2.1: 4xx is
transient (kept and retried on a later run), 5xx is final and its code recorded. The
envelope sender is the From address, the organiser (tech.md section 2). The password comes
from ``password_file`` and never appears in an error or a log line.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar, Literal

from .ports import DeliveryRejected, DeliveryUnavailable, MessageSender, Receipt

Security = Literal["none", "starttls", "tls"]


class SmtpMailer(MessageSender):
    name: ClassVar[str] = "smtp"

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        security: Security = "none",
        username: str = "",
        password_file: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.timeout = username, timeout
        self._password_file = password_file
        self._context = ssl_context or ssl.create_default_context()
        self._lock = threading.Lock()  # guards the two below; no network call is made under it
        self._idle: list[_Slot] = []
        self._generation = 0  # raised by close(): a connection opened before it is not reused

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        # SMTP cannot ask whether a message whose 250 was lost went (RFC 5321 6.1 accepts
        # the rare duplicate); the stable Message-ID lets the reader's client drop it.
        del key, again
        sender = message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in message["To"].addresses]
        for attempt in (1, 2):
            slot = self._take(fresh=attempt == 2)
            keep = True
            try:
                refused = slot.connection.send_message(message, from_addr=sender, to_addrs=recipients)
            except smtplib.SMTPServerDisconnected:
                keep = False
                if attempt == 2:
                    raise DeliveryUnavailable(f"{self.host}:{self.port} closed the connection") from None
                continue  # a reused connection the server had dropped: once more, fresh
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise _by_code(code, text, "refused the recipient") from None
            except smtplib.SMTPResponseException as exc:
                # RFC 5321 3.8: after 421 the server closes the channel; any other reply leaves
                # it usable (smtplib has sent RSET).
                keep = exc.smtp_code != 421
                raise _by_code(exc.smtp_code, exc.smtp_error, "refused the message") from None
            except OSError as exc:
                keep = False
                raise DeliveryUnavailable(f"{self.host}:{self.port}: {exc.__class__.__name__}") from None
            finally:
                self._give_back(slot, keep)
            if refused:
                code, text = next(iter(refused.values()))
                raise _by_code(code, text, "refused the recipient")
            return Receipt(str(message["Message-ID"]))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """QUIT every idle connection; one still in use is closed when it is given back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for slot in idle:
            _quit(slot.connection)

    def _take(self, fresh: bool) -> _Slot:
        """An idle connection of this run, or a new one (opened outside the lock, so several
        threads connect at once)."""
        with self._lock:
            if self._idle and not fresh:
                return self._idle.pop()
            generation = self._generation
        return _Slot(self._connect(), generation)

    def _give_back(self, slot: _Slot, keep: bool) -> None:
        with self._lock:
            if keep and slot.generation == self._generation:
                self._idle.append(slot)
                return
        if keep:
            _quit(slot.connection)
        else:  # broken or closed by the server: no QUIT to send
            slot.connection.close()

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context)
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                connection.starttls(context=self._context)
            if self.username:
                connection.login(self.username, self._password())
        except smtplib.SMTPAuthenticationError as exc:
            # The server's words only: never the password, never the AUTH exchange.
            raise DeliveryRejected(f"{self.host}:{self.port} refused the login for "
                                   f"{self.username!r} ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error, "refused the connection") from None
        except UnicodeEncodeError:  # smtplib sends AUTH credentials as ASCII only
            raise DeliveryRejected(f"smtp: the password of {self.username!r} has non-ASCII "
                                   "characters, which SMTP AUTH cannot send") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryUnavailable(f"{self.host}:{self.port}: cannot connect "
                                      f"({exc.__class__.__name__})") from None
        return connection

    def _password(self) -> str:
        if not self._password_file:
            raise DeliveryRejected("smtp: username is set but password_file is not")
        try:
            return Path(self._password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryRejected(f"smtp: cannot read password_file ({exc.strerror})") from None


@dataclass(frozen=True)
class _Slot:
    connection: smtplib.SMTP
    generation: int


def _quit(connection: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.quit()
    connection.close()  # quit() leaves the socket open when the server did not answer


def _by_code(code: int, text: bytes | str, what: str) -> DeliveryRejected | DeliveryUnavailable:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    message = f"the server {what}: {code} {words}".strip()
    return DeliveryUnavailable(message) if 400 <= code < 500 else DeliveryRejected(message)
