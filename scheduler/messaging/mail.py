"""E-mail for every action: the reader's language, Jinja2 templates, iMIP (RFC 6047).

Templates live in ``templates/mail/<lang>/<kind>.{subject,txt,html}``, rendered in a
sandbox with ``StrictUndefined`` and HTML autoescaping, chosen by the *recipient's*
language. Messages with a calendar part are ``multipart/alternative`` (text, HTML,
``text/calendar; method=...`` equal to the body's METHOD, RFC 6047 2.4) inside
``multipart/mixed`` with the ``.ics`` attached; the alternative part comes first because
Outlook looks only there (MS-STANDARDSSUPPORT). Header values are sanitised here because
Python 3.11.7 still has CVE-2024-6923 (encoded words that smuggle new header lines).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from scheduler.catalogue.contacts import Recipient

MAIL_KINDS = ("prepare", "request_items", "invite", "update", "cancel", "agenda", "remind",
              "minutes", "alert")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


def clean_header(value: str) -> str:
    """A header value that cannot start a new header line or smuggle one in encoded words.

    Removes every control, line- and paragraph-separator character (CR, LF, U+0085, U+2028,
    U+2029...) and neutralises RFC 2047 encoded words written into the text itself.
    """
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value
    )
    kept = _ENCODED_WORD.sub(lambda m: m.group(0).replace("=?", "= ?"), kept)
    return " ".join(kept.split())


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Templates:
    """The mail templates of one installation (read from disk once, rendered many times)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        def one(suffix: str) -> str:
            return self.env.get_template(f"{language}/{kind}.{suffix}").render(context)

        return Rendered(clean_header(one("subject")), one("txt"), one("html"))


def _address(who: Recipient) -> Address:
    """An address object, so the display name is quoted and encoded by the email package."""
    username, _, domain = clean_header(who.email).partition("@")
    return Address(display_name=clean_header(who.name), username=username, domain=domain)


SAMPLE_CONTEXT: dict[str, Any] = {
    "recipient": {"name": "Matti Meikäläinen", "email": "matti@example.org", "language": "fi"},
    "sender": {"name": "Keski-Suomen liitto", "email": "kokoukset@liitto.example"},
    "coordinator": {"name": "Yhdyspintakoordinaattori", "email": "yhdyspinta@liitto.example"},
    "body": {"id": "kuntakokous", "name": "Kuntakokous"},
    "meeting": {"uid": "kuntakokous-2027-1@yhdyspinta", "title": "Kuntakokous 2027",
                "date": "ke 17.2.2027", "start_time": "12.00", "end_time": "16.00",
                "mode": "lähikokous", "location": "Jyväskylä", "online_url": "https://example.org/k",
                "sequence": 1},
    "conveners": ["Jyväskylän kaupunki"], "organisations": ["Jyväskylän kaupunki", "Laukaan kunta"],
    "action": {"kind": "invite", "reply_by": "ke 27.1.2027", "next_step_date": "ke 20.1.2027",
               "invite_date": "ke 27.1.2027"},
    "previous": {"date": "ke 10.2.2027", "start_time": "12.00"},
    "reason": "Esimerkkisyy", "problem": "Esimerkkiongelma.",
}


def check_templates(templates: Templates, languages: tuple[str, ...] = ("fi", "sv", "en")) -> list[str]:
    """Render every template in every language with sample data; the problems found."""
    problems = []
    for language in languages:
        for kind in MAIL_KINDS:
            for optional in (True, False):
                context = dict(SAMPLE_CONTEXT)
                if not optional:
                    context.update(previous=None, reason=None, problem=None)
                try:
                    templates.render(kind, language, context)
                except TemplateError as exc:  # missing, broken or unsafe: the operator fixes it
                    problems.append(f"{templates.directory}/{language}/{kind}: {type(exc).__name__}: {exc}")
                    break
    return problems


def message_id(key: str, domain: str) -> str:
    """Deterministic per (meeting, action, recipient, sequence): a resend is recognisable."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{clean_header(domain)}>"


def build_email(
    *,
    sender: Recipient,
    recipient: Recipient,
    rendered: Rendered,
    key: str,
    domain: str,
    date: Any,
    calendar: bytes | None = None,
    method: str | None = None,
) -> EmailMessage:
    """One message to one recipient; ``calendar`` makes it an iMIP message with ``method``."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(sender)
    msg["To"] = _address(recipient)
    msg["Subject"] = clean_header(rendered.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(key, domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to us, please
    meeting, kind = (key.split("|") + ["", ""])[:2]
    msg["X-Yhdyspinta-Meeting"] = clean_header(meeting)
    msg["X-Yhdyspinta-Action"] = clean_header(kind)
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if calendar is not None and method is not None:
        # RFC 6047 2.4: the Content-Type's method must equal the calendar's METHOD.
        msg.add_alternative(calendar.decode("utf-8"), subtype="calendar", charset="utf-8",
                            params={"method": method}, cte="quoted-printable")
        msg.make_mixed()
        msg.add_attachment(calendar, maintype="application", subtype="ics",
                           filename="kutsu.ics" if method == "REQUEST" else "peruutus.ics")
    return msg
