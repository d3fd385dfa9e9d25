"""The service's log: plain text or one JSON object per line (``[service] log_format``).

Records carry the ids that let an operator follow a message (``body``, ``meeting``,
``outbox``: a digest of the row's key, which itself holds an address) and never an
address, a name, a token or a password (reliability.md X5; OWASP logging): every message
and argument is passed through ``redact`` on its way out, whoever logged it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# An Authorization header's scheme and credential, as a line or as a quoted dict entry.
_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|negotiate|ntlm)\s+)?"
    r"[^\s'\",}]+")
_SECRET = re.compile(
    r"(?i)\b(bearer|password|passwd|secret|token)(['\"]?\s*[:=]\s*['\"]?|\s+)[^\s'\",}]+")
CONTEXT = ("body", "meeting", "outbox", "event")


def redact(text: str) -> str:
    """``text`` without e-mail addresses and credential-looking values."""
    text = _AUTHORIZATION.sub(r"\1<redacted>", text)
    return _SECRET.sub(r"\1\2<redacted>", _ADDRESS.sub("<address>", text))


def outbox_id(key: str) -> str:
    """A row's id for the log: its key holds the recipient's address."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback's text may quote an address (an SMTP error does): kept short.
            error = record.exc_info[1]
            record.msg += f" ({type(error).__name__}: {redact(str(error))})"
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT
                       if getattr(record, key, None) is not None)
        return f"{line} [{ids}]" if ids else line


def configure(log_format: str, level: str, stream: Any = None) -> logging.Handler:
    """The root logger's one handler, to stderr (systemd's journal, docker logs)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(_Redacting())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic names every plugin it loads; APScheduler warns of each poll it skips while a
    # delivery runs, which is by design (one use case at a time).
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(logging.getLevelName(level), logging.ERROR))
    return handler
