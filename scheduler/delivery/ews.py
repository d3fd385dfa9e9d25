"""The ``ews`` backend: meetings and plain messages through Exchange Web Services.

For on-premises Exchange, and for Exchange Online tenants that allow-list the app until EWS
is switched off there on 1 Apr 2027 (tech.md section 0.1; Graph is the M365 default). The
meeting is a CalendarItem created in the organiser's mailbox with its attendees, so Exchange
sends the invitations, updates and cancellations and collects the answers (events.py).

This module owns: the exchangelib Configuration (a fixed ``service_endpoint``, a pinned
``version``, no autodiscover, FaultTolerance as the retry policy), one Account per organiser
mailbox, the mapping of EWS faults to DeliveryRejected / DeliveryUnavailable, and keeping
secrets (password, client secret, access token, Authorization headers) out of exception
text and out of the log records exchangelib and requests-oauthlib write at DEBUG.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Literal

from exchangelib import (  # type: ignore[import-untyped]
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSTimeZone,
    FaultTolerance,
    HTMLBody,
    Mailbox,
    Message,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY  # type: ignore[import-untyped]
from exchangelib.properties import Attendee  # type: ignore[import-untyped]
from exchangelib.protocol import (  # type: ignore[import-untyped]
    BaseProtocol,
    NoVerifyHTTPAdapter,
)
from exchangelib.version import VERSIONS  # type: ignore[import-untyped]
from oauthlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]

from . import DeliveryRejected, DeliveryUnavailable, Receipt
from .events import CalendarEvent, EventReceipt, Person

log = logging.getLogger(__name__)

Auth = Literal["oauth2", "ntlm", "basic"]
HELSINKI = "Europe/Helsinki"

# EWS answers meaning "not now" (throttling, a busy or moving mailbox store, a dropped
# connection); everything else the server says about a request is final for that request.
_TRANSIENT = (
    ews_errors.RateLimitError,  # FaultTolerance ran out of patience (tech.md section 3)
    ews_errors.ErrorServerBusy,
    ews_errors.ErrorTimeoutExpired,
    ews_errors.ErrorInternalServerTransientError,
    ews_errors.ErrorInternalServerError,
    ews_errors.ErrorTooManyObjectsOpened,
    ews_errors.ErrorExceededConnectionCount,
    ews_errors.ErrorMailboxStoreUnavailable,
    ews_errors.ErrorMailboxMoveInProgress,
    ews_errors.ErrorConnectionFailed,
)

# What Attendee.ResponseType says -> the words events.py promises.
_ANSWERS = {"Accept": "accepted", "Decline": "declined", "Tentative": "tentativelyAccepted"}

_EVENT_FIELDS = ["subject", "body", "start", "end", "location", "required_attendees",
                 "reminder_is_set", "reminder_minutes_before_start"]


class EwsMailer:
    name: ClassVar[str] = "ews"

    def __init__(
        self,
        service_endpoint: str = "",
        auth: Auth = "oauth2",
        username: str = "",
        password_file: str = "",
        tenant_id: str = "",
        client_id: str = "",
        client_secret_file: str = "",
        version: str = "Exchange2016",
        timeout: float = 30.0,
        retry_seconds: int = 60,
        verify_tls: bool = True,
        access_type: Literal["", "impersonation", "delegate"] = "",
        token_url: str = "",
    ) -> None:
        if auth not in ("oauth2", "ntlm", "basic"):
            raise ValueError(f"ews: auth must be oauth2, ntlm or basic, not {auth!r}")
        if not service_endpoint:
            raise ValueError("ews: service_endpoint is required (autodiscover is not used)")
        self.service_endpoint, self.auth = service_endpoint, auth
        self.username, self.tenant_id, self.client_id = username, tenant_id, client_id
        self.timeout, self.retry_seconds = timeout, retry_seconds
        self.access_type, self.token_url = access_type, token_url
        self._password_file, self._client_secret_file = password_file, client_secret_file
        self._version = _version(version)
        if not verify_tls:
            # exchangelib sets this per process, not per Configuration (its docs, "Proxies and
            # custom TLS validation"): every EWS session in this process stops verifying.
            log.warning("ews: TLS certificates of %s are not verified", service_endpoint)
            BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
        self._config: Any = None
        self._accounts: dict[str, Any] = {}
        self._authenticated = False  # a 401 after a success in this run is throttling
        _install_redaction()

    # -- the EventMailer protocol ----------------------------------------------------------

    def send(self, message: EmailMessage, key: str) -> Receipt:
        del key  # EWS has no idempotency key for CreateItem; the outbox keeps one row per key
        sender = message["From"].addresses[0].addr_spec
        if any(part.get_content_type() == "text/calendar" for part in message.walk()):
            # Exchange would turn the part into a meeting of its own; meetings go through
            # create_event so that the organiser's calendar holds them (events.py).
            raise DeliveryRejected("ews: send() carries plain messages; a text/calendar part "
                                   "belongs to create_event")
        html_part = message.get_body(preferencelist=("html",))
        text_part = message.get_body(preferencelist=("plain",))
        if html_part is not None:
            body = HTMLBody(html_part.get_content())
        else:
            text = "" if text_part is None else text_part.get_content()
            body = HTMLBody(f"<pre>{html.escape(text)}</pre>")
        to = [Mailbox(email_address=a.addr_spec, name=a.display_name or None)
              for a in message["To"].addresses]
        with self._calling("send a message", sender):
            account = self._account(sender)
            Message(account=account, folder=account.sent, subject=str(message["Subject"]),
                    body=body, to_recipients=to).send_and_save()
        return Receipt(str(message["Message-ID"]))

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        # No transactionId in EWS: FaultTolerance only retries what the server refused
        # (ErrorServerBusy, 503) or, with more than one connection, a timeout; see the report.
        del key
        with self._calling("create the meeting", event.organizer.email):
            account = self._account(event.organizer.email)
            item = CalendarItem(account=account, folder=account.calendar, uid=event.uid)
            self._fill(item, event, existing={})
            item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
        return EventReceipt(item.id, ical_uid=item.uid or event.uid)

    def update_event(self, remote_id: str, event: CalendarEvent, key: str) -> EventReceipt:
        del key
        with self._calling("update the meeting", event.organizer.email):
            item = self._fetch(remote_id, event.organizer.email)
            existing = {a.mailbox.email_address.lower(): a for a in item.required_attendees or []}
            self._fill(item, event, existing=existing)
            item.save(update_fields=_EVENT_FIELDS, send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
        return EventReceipt(item.id, ical_uid=item.uid or event.uid)

    def cancel_event(self, remote_id: str, event: CalendarEvent, comment: str, key: str) -> Receipt:
        del key
        with self._calling("cancel the meeting", event.organizer.email):
            item = self._fetch(remote_id, event.organizer.email)
            item.cancel(body=comment)  # CancelCalendarItem: the attendees get the comment
        return Receipt(remote_id)

    def responses(self, remote_id: str, organizer: Person) -> dict[str, str]:
        with self._calling("read the answers", organizer.email):
            item = self._fetch(remote_id, organizer.email)
            attendees = list(item.required_attendees or []) + list(item.optional_attendees or [])
        return {a.mailbox.email_address: _ANSWERS.get(a.response_type or "", "none")
                for a in attendees}

    def close(self) -> None:
        if self._config is not None:
            with contextlib.suppress(Exception):  # closing never fails a run
                next(iter(self._accounts.values())).protocol.close()
        self._accounts.clear()

    # -- inside -----------------------------------------------------------------------------

    def _fill(self, item: Any, event: CalendarEvent, existing: dict[str, Any]) -> None:
        zone = EWSTimeZone(HELSINKI)  # the item's time zone: FLE Standard Time on the wire
        body = event.body_html
        if event.online_url and event.online_url not in body:
            url = html.escape(event.online_url)
            body += f'<p><a href="{url}">{url}</a></p>'
        item.subject = event.subject
        item.body = HTMLBody(body)
        item.start = event.start.astimezone(zone)
        item.end = event.end.astimezone(zone)
        item.location = event.location
        item.reminder_is_set = True
        item.reminder_minutes_before_start = event.reminder_minutes
        # Plain strings would be cleaned into response_type="Accept" (tech.md section 3);
        # attendees already on the item keep the answer they gave.
        item.required_attendees = [
            existing.get(p.email.lower()) or Attendee(
                mailbox=Mailbox(email_address=p.email, name=p.name), response_type="Unknown")
            for p in event.attendees]

    def _fetch(self, remote_id: str, mailbox: str) -> Any:
        account = self._account(mailbox)
        [item] = list(account.fetch(ids=[(remote_id, None)], folder=account.calendar))
        if isinstance(item, Exception):  # GetItem returns item-level errors, not raises them
            raise item
        if not isinstance(item, CalendarItem):
            raise DeliveryRejected(f"ews: {remote_id!r} in {mailbox} is not a calendar item")
        return item

    def _account(self, mailbox: str) -> Any:
        key = mailbox.lower()
        if key not in self._accounts:
            if self._config is None:
                self._config = self._configuration()
            self._accounts[key] = Account(
                mailbox, config=self._config, autodiscover=False,
                access_type=self._access_type(key), default_timezone=EWSTimeZone(HELSINKI))
            # exchangelib has no per-Configuration timeout; the Protocol is shared by all
            # accounts on this endpoint and these credentials.
            self._accounts[key].protocol.TIMEOUT = self.timeout
        return self._accounts[key]

    def _access_type(self, mailbox: str) -> str:
        if self.access_type:
            return str(IMPERSONATION if self.access_type == "impersonation" else DELEGATE)
        if self.auth == "oauth2":
            return str(IMPERSONATION)  # app-only token, full_access_as_app (tech.md section 3)
        # A service account on-prem: its own mailbox directly, others by impersonation.
        return str(DELEGATE if mailbox == self.username.lower() else IMPERSONATION)

    def _configuration(self) -> Any:
        if self.auth == "oauth2":
            if not self.client_id:
                raise DeliveryRejected("ews: auth is oauth2 but client_id is not set")
            secret = _read_secret(self._client_secret_file, "client_secret_file")
            credentials = _oauth2_credentials(self.token_url)(
                client_id=self.client_id, client_secret=secret, tenant_id=self.tenant_id or None)
            auth_type = OAUTH2
        else:
            if not self.username:
                raise DeliveryRejected(f"ews: auth is {self.auth} but username is not set")
            secret = _read_secret(self._password_file, "password_file")
            credentials = Credentials(self.username, secret)
            auth_type = NTLM if self.auth == "ntlm" else BASIC
        _REDACTION.secrets.add(secret)
        return Configuration(
            service_endpoint=self.service_endpoint, credentials=credentials, auth_type=auth_type,
            version=self._version, max_connections=4,  # tech.md section 5: EWS budget is 27
            retry_policy=_fault_tolerance(self.retry_seconds))

    @property
    def _who(self) -> str:
        return f"client id {self.client_id!r}" if self.auth == "oauth2" else repr(self.username)

    @contextlib.contextmanager
    def _calling(self, what: str, mailbox: str) -> Iterator[None]:
        """Translate what exchangelib raises into the two outcomes the outbox knows."""
        try:
            yield
        except (DeliveryRejected, DeliveryUnavailable):
            raise
        except ews_errors.UnauthorizedError:
            if self._authenticated:  # EWS also sends 401 to slow clients down (exchangelib)
                raise DeliveryUnavailable(f"ews: {self.service_endpoint} refused {self._who} "
                                          "after accepting it earlier (401)") from None
            raise DeliveryRejected(f"ews: {self.service_endpoint} refused the login for "
                                   f"{self._who} (401)") from None
        except OAuth2Error as exc:
            # The token endpoint's error code only: its description and the request it echoes
            # may carry the secret (exchangelib#924).
            code = getattr(exc, "error", "") or exc.__class__.__name__
            if code in ("temporarily_unavailable", "server_error"):
                raise DeliveryUnavailable(f"ews: no token for {self._who} ({code})") from None
            raise DeliveryRejected(f"ews: the token endpoint refused {self._who} ({code})") from None
        except _TRANSIENT as exc:
            raise DeliveryUnavailable(f"ews: could not {what} in {mailbox}: "
                                      f"{exc.__class__.__name__}") from None
        except ews_errors.ResponseMessageError as exc:
            text = _REDACTION.redact(str(exc).splitlines()[0] if str(exc) else "")[:200]
            raise DeliveryRejected(f"ews: could not {what} in {mailbox}: "
                                   f"{exc.__class__.__name__} {text}".strip()) from None
        except (ews_errors.TransportError, ews_errors.CASError, OSError) as exc:
            # No connection, TLS, a proxy's 502: the environment, not this message.
            raise DeliveryUnavailable(f"ews: could not {what} in {mailbox}: "
                                      f"{exc.__class__.__name__}") from None
        else:
            self._authenticated = True


def _version(name: str) -> Any:
    """``Exchange2016`` -> a Version with a Build, so exchangelib does not probe the server."""
    builds = [build for build, api, _ in VERSIONS if api == name]
    if not builds:
        names = sorted({api for _, api, _ in VERSIONS})
        raise ValueError(f"ews: unknown version {name!r}; expected one of {', '.join(names)}")
    # The oldest build with this API version: never claims a field the server lacks.
    build: Build = builds[-1]
    return Version(build=build, api_version=name)


def _read_secret(path: str, key: str) -> str:
    if not path:
        raise DeliveryRejected(f"ews: {key} is not set")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DeliveryRejected(f"ews: cannot read {key} ({exc.strerror})") from None


def _oauth2_credentials(token_url: str) -> Any:
    """OAuth2Credentials, with the token endpoint moved when ``token_url`` is set (a sovereign
    cloud, a test peer). exchangelib hard-codes login.microsoftonline.com in a property."""
    if not token_url:
        return OAuth2Credentials
    return type("OAuth2CredentialsAt", (OAuth2Credentials,),
                {"token_url": property(lambda self: token_url)})


def _fault_tolerance(max_wait: int) -> Any:
    """FaultTolerance (the default, FailFast, never retries: tech.md section 3), except that
    a 401 is a refused login. FaultTolerance takes every 401 for throttling and retries it
    for up to ``max_wait`` seconds, which on-prem counts as failed logins towards an AD
    lockout; _calling still treats a 401 after a success as transient."""

    def raise_response_errors(self: Any, response: Any) -> Any:
        if response.status_code == 401:
            raise ews_errors.UnauthorizedError(f"Invalid credentials for {response.url}")
        return FaultTolerance.raise_response_errors(self, response)

    policy = type("LoginAwareFaultTolerance", (FaultTolerance,),
                  {"raise_response_errors": raise_response_errors})
    return policy(max_wait=max_wait)


class _Redaction(logging.Filter):
    """Rewrites log records that carry credentials. exchangelib logs every request's
    headers (Authorization included) at DEBUG in exchangelib.util, and requests-oauthlib
    logs the token request body (client_secret) and the token response (exchangelib#924)."""

    PATTERNS = (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+"),
        re.compile(r"(?i)((?:client_secret|access_token|refresh_token|id_token|password)"
                   r"['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for pattern in self.PATTERNS:
            text = pattern.sub(r"\1[redacted]", text)
        for secret in self.secrets:
            if secret:
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


_REDACTION = _Redaction()
_REDACTED_LOGGERS = ("exchangelib.util", "exchangelib.util.xml", "exchangelib.protocol",
                     "exchangelib.services.common", "requests_oauthlib.oauth2_session",
                     "requests_oauthlib.oauth2_auth")
_installed = threading.Lock()


def _install_redaction() -> None:
    # A filter on a logger sees only that logger's own records, so each source is named.
    with _installed:
        for name in _REDACTED_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACTION not in logger.filters:
                logger.addFilter(_REDACTION)
