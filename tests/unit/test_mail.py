"""Mail building on its own: header safety, the sandbox, iMIP structure, every template."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError

from scheduler.catalogue.contacts import Recipient
from scheduler.messaging.mail import (
    MAIL_KINDS,
    SAMPLE_CONTEXT,
    Rendered,
    Templates,
    build_email,
    check_templates,
    clean_header,
    message_id,
)
from tests.conftest import ROOT

TEMPLATES = Templates(ROOT / "templates" / "mail")
SENDER = Recipient("kokoukset@liitto.example", "Keski-Suomen liitto", "fi", "liitto")
EVIL = [
    "Kokous\r\nBcc: injected@example.com",
    "Kokous\nBcc: injected@example.com",
    "Kokous\rBcc: injected@example.com",
    "Kokous\u2028Bcc: injected@example.com",
    "Kokous\x85Bcc: injected@example.com",
    "Kokous=?UTF-8?Q?=0A?=Bcc: injected@example.com",
    '"Quoted", name; with <angle> brackets',
]


def test_every_template_renders_in_every_language() -> None:
    assert check_templates(TEMPLATES) == []


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("kind", MAIL_KINDS)
def test_templates_are_real_text_in_the_readers_language(kind: str, language: str) -> None:
    rendered = TEMPLATES.render(kind, language, dict(SAMPLE_CONTEXT))
    greeting = {"fi": "Hyvä", "sv": "Bästa", "en": "Dear"}[language]
    assert rendered.text.startswith(greeting)
    assert "\n" not in rendered.subject and rendered.subject
    assert "None" not in rendered.text and "{{" not in rendered.text
    assert f'lang="{language}"' in rendered.html


def test_html_is_escaped_and_text_is_not() -> None:
    context = dict(SAMPLE_CONTEXT, body={"id": "x", "name": "<script>alert(1)</script>"})
    rendered = TEMPLATES.render("invite", "fi", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


@pytest.mark.parametrize("attack", ["{{ ''.__class__.__mro__[1].__subclasses__() }}",
                                    "{{ cycler.__init__.__globals__ }}"])
def test_the_sandbox_refuses_reaching_into_python(tmp_path: Path, attack: str) -> None:
    for language in ("fi",):
        (tmp_path / language).mkdir(exist_ok=True)
        for suffix in ("subject", "txt", "html"):
            (tmp_path / language / f"x.{suffix}").write_text(attack, encoding="utf-8")
    with pytest.raises(SecurityError):
        Templates(tmp_path).render("x", "fi", {"cycler": None})


@pytest.mark.parametrize("evil", EVIL)
def test_header_values_cannot_add_headers(evil: str) -> None:
    cleaned = clean_header(evil)
    assert not any(ch in cleaned for ch in "\r\n\u2028\u2029\x85")
    assert "=?" not in cleaned.replace("= ?", "")
    victim = Recipient("matti@example.org", evil, "fi", None, person=True)
    message = build_email(sender=SENDER, recipient=victim, rendered=Rendered(evil, "t", "<p>t</p>"),
                          key="k|invite|matti@example.org|0", domain="yhdyspinta",
                          date=datetime(2026, 11, 22, tzinfo=UTC))
    parsed: Any = message_from_bytes(message.as_bytes(), policy=default)
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["matti@example.org"]
    assert len(parsed.get_all("Subject")) == 1


def test_message_id_is_deterministic_per_key() -> None:
    assert message_id("a|invite|x|0", "y") == message_id("a|invite|x|0", "y")
    assert message_id("a|invite|x|0", "y") != message_id("a|invite|x|1", "y")
