"""Read and check the TOML configuration and its environment overrides: the edge for config.

Every key can be overridden by ``YHDYSPINTA_<SECTION>_<KEY>`` (values parsed as TOML, falling
back to a plain string). Secrets never live here: only ``*_file`` keys that name a file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from .catalogue.model import Frozen, Month
from .catalogue.validation import explain
from .errors import Problem, UserError

ENV_PREFIX = "YHDYSPINTA_"
MAX_WORKERS = 64
DEFAULT_CONFIG = Path("config/yhdyspinta.toml")


class Planning(Frozen):
    timezone: str = "Europe/Helsinki"
    language: Literal["fi", "sv", "en"] = "fi"
    calendars: str = "calendars"
    blackout_months: list[Month] = [7]
    uid_domain: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+$")] = "yhdyspinta"
    freebusy: bool = False  # ask the conveners' calendars (graph/ews) before fixing dates
    # No meeting, and no message, between Christmas and Epiphany (issue 9): "MM-DD..MM-DD",
    # both days included, the end in the new year; "" keeps only the calendars' blackouts.
    christmas_break: Annotated[str, Field(pattern=r"^$|^\d\d-\d\d\.\.\d\d-\d\d$")] = "12-18..01-06"
    # `move` refuses a meeting starting before or ending after these (unless --force).
    office_hours: Annotated[str, Field(pattern=r"^\d\d:\d\d-\d\d:\d\d$")] = "08:00-17:00"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; expected a tz database name such as "
                             "'Europe/Helsinki'") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def opening_hours(self) -> tuple[time, time]:
        opens, closes = self.office_hours.split("-")
        return time.fromisoformat(opens), time.fromisoformat(closes)

    def christmas_days(self, first_year: int, last_year: int) -> list[date]:
        """The Christmas break's days of the breaks starting in these years."""
        if not self.christmas_break:
            return []
        begin, end = self.christmas_break.split("..")
        days: list[date] = []
        for year in range(first_year, last_year + 1):
            day = date.fromisoformat(f"{year}-{begin}")
            last = date.fromisoformat(f"{year + 1}-{end}")
            while day <= last:
                days.append(day)
                day += timedelta(days=1)
        return days


class Database(Frozen):
    url: str = "sqlite:///var/yhdyspinta.db"


class Delivery(Frozen):
    backend: Literal["maildir", "smtp", "graph", "ews"] = "maildir"
    maildir: str = "var/outbox"
    feeds: str = "var/feeds"  # subscribable <body-id>.ics per body, rewritten on every run
    # Threads making delivery calls at once: SMTP connections, Graph/EWS requests (Graph
    # still keeps at most [graph] max_in_flight per mailbox). 1 sends one row after another.
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = 4


class Smtp(Frozen):
    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""
    password_file: str = ""  # the secret lives in this file, never in the config
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0


class Graph(Frozen):
    tenant_id: str = ""
    client_id: str = ""
    client_secret_file: str = ""  # one of these three holds the credential, never the config
    certificate_file: str = ""
    token_file: str = ""  # a bearer token issued by an external broker
    base_url: str = "https://graph.microsoft.com/v1.0"  # national clouds differ
    authority_host: str = "login.microsoftonline.com"
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_in_flight: Annotated[int, Field(ge=1, le=4)] = 4  # Exchange: 4 concurrent per mailbox
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    retry_delay: Annotated[float, Field(ge=0, le=120)] = 3.0


class Ews(Frozen):
    service_endpoint: str = ""  # https://mail.example.fi/EWS/Exchange.asmx: no autodiscover
    auth: Literal["oauth2", "ntlm", "basic"] = "oauth2"
    username: str = ""
    password_file: str = ""
    tenant_id: str = ""
    client_id: str = ""
    client_secret_file: str = ""
    version: str = "Exchange2016"
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    retry_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    verify_tls: bool = True
    access_type: Literal["", "impersonation", "delegate"] = ""
    token_url: str = ""


class Messages(Frozen):
    templates: str = "templates/mail"
    contacts: str = "config/contacts.example.yaml"  # names and addresses: personal data


class Service(Frozen):
    """``yhdyspinta serve`` (issue 10)."""

    host: str = "127.0.0.1"  # /healthz, /readyz, /metrics
    port: Annotated[int, Field(ge=0, le=65535)] = 8480  # 0: any free port (tests)
    log_format: Literal["plain", "json"] = "plain"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # How often files (bodies/, calendars/, contacts) and the outbox are looked at for
    # changes made beside the service (an edit, a `move` from the command line).
    poll_seconds: Annotated[float, Field(gt=0, le=300)] = 5.0
    replan_hours: Annotated[float, Field(gt=0, le=168)] = 6.0  # the schedule planned again
    # A standby tries the leader lock this often: it takes over within this (plus the
    # database's own notice of the dead leader's connection; issue 10 asks for 30 s).
    standby_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
    drain_seconds: Annotated[float, Field(gt=0, le=300)] = 25.0  # SIGTERM: calls under way


class Retention(Frozen):
    """How long personal data of delivered messages is kept (GDPR art. 5(1)(e)). Set it
    with your data protection officer and archive rules."""

    # Addresses of delivered rows and attendees' answers are erased this many months
    # after the meeting: 13 keeps the year for the May follow-up.
    months_after_meeting: Annotated[int, Field(ge=1, le=240)] = 13
    hour: Annotated[int, Field(ge=0, le=23)] = 3  # the service erases daily at this hour


class Settings(Frozen):
    planning: Planning = Planning()
    database: Database = Database()
    delivery: Delivery = Delivery()
    messages: Messages = Messages()
    service: Service = Service()
    retention: Retention = Retention()
    # Sections of the configuration contract used by later stages (the other backends);
    # kept as plain tables until their code validates them.
    smtp: Smtp = Smtp()
    graph: Graph = Graph()
    ews: Ews = Ews()
    mailboxes: dict[str, Any] = {}


def config_path(given: Path | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """The configuration file: ``--config``, else ``$YHDYSPINTA_CONFIG``, else
    ``config/yhdyspinta.toml`` if there is one, else none (the defaults)."""
    if given is not None:
        return given
    if environ.get("YHDYSPINTA_CONFIG"):
        return Path(environ["YHDYSPINTA_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(path: Path | None, environ: Mapping[str, str] = os.environ) -> Settings:
    """Read ``path`` (optional) and apply environment overrides; raise ``UserError`` on problems."""
    data: dict[str, Any] = {}
    name = str(path) if path else "(defaults)"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{path}: configuration file not found (see --config)") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: not valid TOML", [Problem(name, str(exc))]) from None
    problems, from_environment = _apply_environment(data, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            key = ".".join(map(str, err["loc"]))
            variable = from_environment.get(tuple(map(str, err["loc"][:2])))
            # A bad override is not in the file: send the operator to the variable instead.
            where = f"environment variable {variable}" if variable else name
            problems.append(Problem(where, explain(err), path=key))
        settings = Settings()
    if problems:
        raise UserError(f"{name}: the configuration has problems", problems)
    return settings


def _apply_environment(
    data: dict[str, Any], environ: Mapping[str, str]
) -> tuple[list[Problem], dict[tuple[str, ...], str]]:
    """Merge ``YHDYSPINTA_<SECTION>_<KEY>`` into ``data``; return problems and what came from where."""
    problems = []
    origin: dict[tuple[str, ...], str] = {}
    for key, raw in sorted(environ.items()):
        if not key.startswith(ENV_PREFIX) or key == f"{ENV_PREFIX}CONFIG":
            continue
        section, _, option = key[len(ENV_PREFIX):].lower().partition("_")
        if section not in Settings.model_fields or not option:
            problems.append(Problem(key, "unknown setting; expected YHDYSPINTA_<SECTION>_<KEY>"))
            continue
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        data.setdefault(section, {})[option] = value
        origin[(section, option)] = key
    return problems, origin


# -- the chosen backend's settings, checked without contacting any server (issue 8) ------------

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def backend_problems(settings: Settings, where: str = "configuration") -> list[Problem]:
    """Every problem of the chosen ``[delivery] backend``'s section: a missing key, a secret
    file that cannot be read or that anyone may read, an endpoint that is not https (plain
    http only to this machine itself, for a local test peer)."""
    check = {"graph": _graph_problems, "ews": _ews_problems, "smtp": _smtp_problems}.get(
        settings.delivery.backend)
    return [Problem(where, message, path=key) for key, message in (check(settings) if check else [])]


def _graph_problems(settings: Settings) -> list[tuple[str, str]]:
    graph = settings.graph
    found = _https("graph.base_url", graph.base_url)
    authority = graph.authority_host
    found += _https("graph.authority_host", authority if "://" in authority else f"https://{authority}")
    credentials = [key for key in ("client_secret_file", "certificate_file", "token_file")
                   if getattr(graph, key)]
    if not credentials:
        found.append(("graph.client_secret_file", ("no credential: set one of client_secret_file, "
                      "certificate_file or token_file")))
    elif len(credentials) > 1:
        found.append((f"graph.{credentials[1]}", (f"set only one credential; "
                      f"{' and '.join(credentials)} are both set")))
    if set(credentials) & {"client_secret_file", "certificate_file"}:
        found += [(f"graph.{key}", (f"missing; needed with {credentials[0]} (see the README, "
                   "Microsoft Graph, step 1)")) for key in ("tenant_id", "client_id")
                  if not getattr(graph, key)]
    for key in credentials:
        found += _secret_file(f"graph.{key}", getattr(graph, key))
    return found


def _ews_problems(settings: Settings) -> list[tuple[str, str]]:
    ews = settings.ews
    if not ews.service_endpoint:
        found = [("ews.service_endpoint", ("missing; the EWS URL, such as "
                  "https://mail.example.fi/EWS/Exchange.asmx (autodiscover is not used)"))]
    else:
        found = _https("ews.service_endpoint", ews.service_endpoint)
    if ews.token_url:
        found += _https("ews.token_url", ews.token_url)
    needed = ("client_id", "client_secret_file") if ews.auth == "oauth2" else (
        "username", "password_file")
    found += [(f"ews.{key}", f"missing; needed with auth = {ews.auth!r}")
              for key in needed if not getattr(ews, key)]
    secret = ews.client_secret_file if ews.auth == "oauth2" else ews.password_file
    key = "client_secret_file" if ews.auth == "oauth2" else "password_file"
    return found + (_secret_file(f"ews.{key}", secret) if secret else [])


def _smtp_problems(settings: Settings) -> list[tuple[str, str]]:
    smtp = settings.smtp
    found: list[tuple[str, str]] = []
    if smtp.username and not smtp.password_file:
        found.append(("smtp.password_file", "missing; needed when username is set"))
    if smtp.username and smtp.security == "none" and smtp.host not in _LOOPBACK:
        found.append(("smtp.security", (f"'none' would send the password of {smtp.username!r} "
                      f"to {smtp.host} unencrypted; use 'starttls' or 'tls'")))
    if smtp.password_file:
        found += _secret_file("smtp.password_file", smtp.password_file)
    return found


def _https(key: str, url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return []  # a peer on this machine (tests, a local relay)
    return [(key, f"expected an https:// address, got {url!r}")]


def _secret_file(key: str, path: str) -> list[tuple[str, str]]:
    try:
        mode = os.stat(path).st_mode
        with open(path, "rb"):
            pass
    except OSError as exc:
        return [(key, f"cannot read {path} ({exc.strerror})")]
    if mode & stat.S_IROTH:
        return [(key, (f"{path} can be read by every user of this machine; "
                 f"make it readable by the service alone: chmod 600 {path}"))]
    return []
