"""Keeping credentials out of the log records exchangelib, requests-oauthlib and pyspnego
write at DEBUG, and out of the server's error text quoted in our exceptions.

Two kinds of filter on the same loggers (a filter on a logger sees only that logger's own
records, so each source is named in LOGGERS):

* the PATTERNS (Authorization headers, the token endpoint's fields, NTLM messages) are the
  same for every mailer: ``install_common`` installs that filter once per process, when the
  first EwsMailer is set up;
* a mailer's own secrets (its password or client secret, read when it is first configured):
  each mailer installs a ``Redaction`` of its own then, and removes it in ``close()``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

LOGGERS = ("exchangelib.util", "exchangelib.util.xml", "exchangelib.protocol",
           "exchangelib.services.common", "requests_oauthlib.oauth2_session",
           "requests_oauthlib.oauth2_auth", "spnego._ntlm")

# exchangelib logs every request's headers (Authorization included) at DEBUG in
# exchangelib.util, requests-oauthlib logs the token request body (client_secret) and the
# token response (exchangelib#924), and pyspnego logs each NTLM message at DEBUG ("NTLM step
# input/output", spnego._ntlm), the AUTHENTICATE one with its NTLMv2 response, from which the
# password can be guessed offline (MS-NLMP 5.1, "Security Considerations for Implementers").
PATTERNS = (
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+"),
    re.compile(r"(?i)((?:client_secret|access_token|refresh_token|id_token|password)"
               r"['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
    re.compile(r"(NTLM step (?:input|output): )\S+"),
)

_INSTALLING = threading.Lock()
_common: Redaction | None = None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with what PATTERNS match, and each of ``secrets``, replaced by [redacted]."""
    for pattern in PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


class Redaction(logging.Filter):
    """Rewrites the log records of LOGGERS that carry ``secrets`` (and, with ``patterns``,
    what PATTERNS match) while it is installed."""

    def __init__(self, secrets: Iterable[str] = (), *, patterns: bool = False) -> None:
        super().__init__()
        self.secrets = frozenset(secret for secret in secrets if secret)
        self.patterns = patterns

    def redact(self, text: str) -> str:
        if self.patterns:
            return redact(text, self.secrets)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is logging's own to report
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True

    def install(self) -> None:
        """On every logger of LOGGERS; installing it again changes nothing."""
        with _INSTALLING:
            for name in LOGGERS:
                logger = logging.getLogger(name)
                if self not in logger.filters:
                    logger.addFilter(self)

    def remove(self) -> None:
        with _INSTALLING:
            for name in LOGGERS:
                logging.getLogger(name).removeFilter(self)


def install_common() -> None:
    """The PATTERNS' redaction, on LOGGERS for the rest of the process: once, whoever asks."""
    global _common
    with _INSTALLING:
        if _common is None:
            _common = Redaction(patterns=True)
    _common.install()
