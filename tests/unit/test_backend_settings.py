"""The chosen delivery backend's settings, checked at the edge without contacting a server
(issue 8): `check` names each problem's key and exits 2, and `dispatch` refuses to start
rather than failing every message."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.settings import backend_problems, load_settings
from tests.conftest import ROOT
from tests.integration.conftest import at, contacts_yaml


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("YHDYSPINTA_")]:
        monkeypatch.delenv(key)


def secret(folder: Path, mode: int = 0o600) -> Path:
    path = folder / "secret"
    path.write_text("salaisuus", encoding="utf-8")
    path.chmod(mode)
    return path


def problems(text: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "yhdyspinta.toml"
        config.write_text(text, encoding="utf-8")
        settings = load_settings(config, {})
    return {p.path: p.message for p in backend_problems(settings)}


def test_graph_needs_its_ids_with_a_secret(tmp_path: Path) -> None:
    found = problems(f'[delivery]\nbackend = "graph"\n[graph]\n'
                     f'client_secret_file = "{secret(tmp_path)}"\n')
    assert set(found) == {"graph.tenant_id", "graph.client_id"}
    assert all("missing" in message for message in found.values())


def test_graph_needs_a_credential_and_only_one(tmp_path: Path) -> None:
    none = problems('[delivery]\nbackend = "graph"\n[graph]\ntenant_id = "t"\nclient_id = "c"\n')
    assert "no credential" in none["graph.client_secret_file"]
    path = secret(tmp_path)
    both = problems(f'[delivery]\nbackend = "graph"\n[graph]\ntenant_id = "t"\nclient_id = "c"\n'
                    f'client_secret_file = "{path}"\ntoken_file = "{path}"\n')
    assert "set only one credential" in both["graph.token_file"]


def test_a_secret_every_user_may_read_or_none_may_is_refused(tmp_path: Path) -> None:
    open_secret = secret(tmp_path, 0o644)
    found = problems(f'[delivery]\nbackend = "graph"\n[graph]\ntoken_file = "{open_secret}"\n')
    assert f"chmod 600 {open_secret}" in found["graph.token_file"]
    gone = problems(f'[delivery]\nbackend = "smtp"\n[smtp]\nhost = "127.0.0.1"\nusername = "u"\n'
                    f'password_file = "{tmp_path / "missing"}"\n')
    assert "cannot read" in gone["smtp.password_file"]


def test_endpoints_must_be_https_except_on_this_machine(tmp_path: Path) -> None:
    path = secret(tmp_path)
    plain = problems(f'[delivery]\nbackend = "ews"\n[ews]\nservice_endpoint = '
                     f'"http://mail.example.fi/EWS/Exchange.asmx"\nclient_id = "c"\n'
                     f'client_secret_file = "{path}"\n')
    assert set(plain) == {"ews.service_endpoint"} and "https://" in plain["ews.service_endpoint"]
    local = problems(f'[delivery]\nbackend = "ews"\n[ews]\nservice_endpoint = '
                     f'"http://127.0.0.1:8080/EWS/Exchange.asmx"\nclient_id = "c"\n'
                     f'client_secret_file = "{path}"\n')
    assert local == {}
    authority = problems(f'[delivery]\nbackend = "graph"\n[graph]\ntoken_file = "{path}"\n'
                         f'authority_host = "http://login.example.fi"\n')
    assert set(authority) == {"graph.authority_host"}


def test_ews_needs_what_its_sign_in_uses() -> None:
    found = problems('[delivery]\nbackend = "ews"\n[ews]\nauth = "ntlm"\n')
    assert set(found) == {"ews.service_endpoint", "ews.username", "ews.password_file"}


def test_smtp_will_not_send_a_password_unencrypted_to_another_machine(tmp_path: Path) -> None:
    found = problems(f'[delivery]\nbackend = "smtp"\n[smtp]\nhost = "smtp.example.fi"\n'
                     f'username = "kokoukset"\npassword_file = "{secret(tmp_path)}"\n')
    assert set(found) == {"smtp.security"} and "starttls" in found["smtp.security"]
    assert problems("") == {}  # the default: a Maildir, nothing to check


def install(folder: Path, backend: str) -> Path:
    (folder / "contacts.yaml").write_text(contacts_yaml(), encoding="utf-8")
    config = folder / "yhdyspinta.toml"
    config.write_text(f"""
[planning]
calendars = "{ROOT / 'calendars'}"
[database]
url = "sqlite:///{folder / 'state.db'}"
[delivery]
backend = "{backend}"
maildir = "{folder / 'outbox'}"
feeds = "{folder / 'feeds'}"
[messages]
templates = "{ROOT / 'templates' / 'mail'}"
contacts = "{folder / 'contacts.yaml'}"
[graph]
client_secret_file = "{secret(folder)}"
tenant_id = "contoso"
""", encoding="utf-8")
    return config


def test_check_names_the_key_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = install(tmp_path, "graph")
    code = main(["--config", str(config), "--bodies", str(ROOT / "bodies"), "check"],
                now=at(2027, 1, 5))
    out = capsys.readouterr().out
    assert code == 2
    assert f"[error] {config}: graph.client_id: missing" in out
    assert "tenant_id" not in out


def test_dispatch_refuses_to_start_instead_of_failing_every_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = install(tmp_path, "graph")
    code = main(["--config", str(config), "--bodies", str(ROOT / "bodies"), "dispatch"],
                now=at(2027, 1, 5))
    err = capsys.readouterr().err
    assert code == 2 and "graph.client_id: missing" in err and "Traceback" not in err
    assert not (tmp_path / "state.db").exists()  # refused before anything was written
