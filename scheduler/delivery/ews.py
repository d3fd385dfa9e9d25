"""The ``ews`` backend: meetings and plain messages through Exchange Web Services.

For on-premises Exchange, and for Exchange Online tenants that allow-list the app until EWS
is switched off there on 1 Apr 2027 (tech.md section 0.1; Graph is the M365 default). The
meeting is a CalendarItem created in the organiser's mailbox with its attendees, so Exchange
sends the invitations, updates and cancellations and collects the answers (events.py).

This module owns: the exchangelib Configuration (a fixed ``service_endpoint``, a pinned
``version``, no autodiscover, FaultTolerance as the retry policy), one Account per organiser
mailbox, the mapping of EWS faults to DeliveryRejected / DeliveryUnavailable, creating each
meeting once (looked up by our UID before and after an unanswered CreateItem), sending each
plain message once (our outbox key on it, looked up in Sent Items and the Outbox when an
earlier attempt ended uncertain), free/busy
through GetUserAvailability, and keeping secrets (password, client secret, access token,
Authorization headers) out of exception text and out of the log records exchangelib and
requests-oauthlib write at DEBUG.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar, Literal

from exchangelib import (  # type: ignore[import-untyped]
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    UID,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FaultTolerance,
    FolderCollection,
    HTMLBody,
    Mailbox,
    Message,
    OAuth2Credentials,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.ewsdatetime import UTC as EWS_UTC  # type: ignore[import-untyped]
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY  # type: ignore[import-untyped]
from exchangelib.properties import (  # type: ignore[import-untyped]
    Attendee,
    FreeBusyViewOptions,
    MailboxData,
    TimeWindow,
    TimeZone,
)
from exchangelib.protocol import (  # type: ignore[import-untyped]
    BaseProtocol,
    NoVerifyHTTPAdapter,
)
from exchangelib.services import (  # type: ignore[import-untyped]
    GetServerTimeZones,
    GetUserAvailability,
)
from exchangelib.util import CONNECTION_ERRORS  # type: ignore[import-untyped]
from exchangelib.version import VERSIONS  # type: ignore[import-untyped]
from oauthlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout
from urllib3.exceptions import ConnectTimeoutError

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

# GetUserAvailability limits: "the maximum number of identities that the GetUserAvailability
# operation can request" is 100 (GetUserAvailability operation, Remarks), and the TimeWindow
# "maximum value for this time period is 42 days" by default (TimeWindow, Remarks; answered
# with ErrorTimeIntervalTooBig, ResponseCode). A longer span is asked in several windows.
MAX_MAILBOXES = 100
MAX_WINDOW = timedelta(days=42)

# BusyType values (BusyType element) that keep a convener from a meeting. Tentative is a
# slot the convener holds but has not confirmed, which Outlook's scheduling assistant also
# shows as taken; OOF is away. Free is free; WorkingElsewhere (Exchange 2013+) means at work,
# somewhere else, so available for a meeting (a Teams link); NoData means the server knows
# nothing of the slot, and reading it as busy would block whole windows of an unpublished
# calendar.
BUSY_TYPES = frozenset({"Busy", "OOF", "Tentative"})


class _GlobalObjectId(ExtendedProperty):  # type: ignore[misc]
    """PidLidGlobalObjectId (PSETID_Meeting, LID 0x3, binary): where Exchange keeps a meeting's
    iCalendar UID, wrapped as "vCal-Uid" when the UID is not an Outlook one (MS-OXOCAL
    2.2.1.27, MS-OXCICAL UID). calendar:UID itself cannot be used in a restriction
    (exchangelib marks it not searchable); exchangelib's ``UID`` helper builds the value."""

    distinguished_property_set_id = "Meeting"
    property_id = 3
    property_type = "Binary"


_GOID_FIELD = "yhdyspinta_global_object_id"
if _GOID_FIELD not in {f.name for f in CalendarItem.FIELDS}:
    CalendarItem.register(_GOID_FIELD, _GlobalObjectId)  # exchangelib's documented way (UID)


class _OutboxKey(ExtendedProperty):  # type: ignore[misc]
    """Our outbox key on every plain message, the same named property the graph backend sets
    (graph.KEY_PROPERTY): "yhdyspinta-outbox-key" in PS_PUBLIC_STRINGS ([MS-OXPROPS] 1.3.2),
    a string. CreateItem with SendAndSaveCopy keeps it on the copy saved in Sent Items, and
    FindItem can restrict on it (IsEqualTo with an ExtendedFieldURI, "Properties and extended
    properties in EWS")."""

    property_set_id = "00020329-0000-0000-C000-000000000046"  # PS_PUBLIC_STRINGS
    property_name = "yhdyspinta-outbox-key"
    property_type = "String"


_KEY_FIELD = "yhdyspinta_outbox_key"
if _KEY_FIELD not in {f.name for f in Message.FIELDS}:
    Message.register(_KEY_FIELD, _OutboxKey)


class _AnswerLost(Exception):
    """A CreateItem may have been done without its answer reaching us (a timeout, a dropped
    connection, a 503 from a proxy after Exchange did the work)."""


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
        self._accounts_lock = threading.Lock()
        self._one_at_a_time = threading.RLock()  # see _calling
        self._authenticated = False  # a 401 after a success in this run is throttling
        _install_redaction()

    # -- the EventMailer protocol ----------------------------------------------------------

    def send(self, message: EmailMessage, key: str, *, again: bool = False) -> Receipt:
        """CreateItem with SendAndSaveCopy, ``key`` on the message as an extended property
        (_OutboxKey). CreateItem has no idempotency key, so a request that may have reached
        Exchange without its answer reaching us (a timeout, a dropped connection, a 503) is
        neither re-sent by exchangelib (_no_blind_resend) nor taken for lost: it ends
        "uncertain", and the next attempt (``again``) looks for the key first."""
        sender = message["From"].addresses[0].addr_spec
        if any(part.get_content_type() == "text/calendar" for part in message.walk()):
            # Exchange would turn the part into a meeting of its own; meetings go through
            # create_event so that the organiser's calendar holds them (events.py).
            raise DeliveryRejected("ews: send() carries plain messages; a text/calendar part "
                                   "belongs to create_event")
        fields = _message_fields(message)
        receipt = Receipt(str(message["Message-ID"]))
        with self._calling("send a message", sender):
            account = self._account(sender)
            if again and self._already_sent(account, key):
                log.info("ews: a message from %s: the earlier attempt had gone; not sent again",
                         sender)
                return receipt
            item = Message(account=account, folder=account.sent, **fields, **{_KEY_FIELD: key})
            try:
                with _no_blind_resend():
                    item.send_and_save()
            except Exception as exc:
                if not _maybe_sent(exc):
                    raise  # refused, or never connected: _calling says which
                reason = str(exc) if isinstance(exc, _AnswerLost) else exc.__class__.__name__
                raise DeliveryUnavailable(
                    f"uncertain: ews: no answer to sending a message from {sender} ({reason}); "
                    "Exchange may have sent it, so the next attempt looks for it in Sent Items "
                    "and the Outbox before sending") from None
        return receipt

    def _already_sent(self, account: Any, key: str) -> bool:
        """Whether a message carrying ``key`` is in the sender's Sent Items (the copy
        SendAndSaveCopy saves once transport has taken the message) or still in its Outbox:
        one FindItem over both folders ("an unlimited number of folders can be defined for
        the search", ParentFolderIds) with an IsEqualTo restriction on _OutboxKey. Not the
        whole mailbox: "FindItem only supports shallow or soft-deleted traversals of a
        folder. To perform deep traversals, use search folders" (FindItemType.Traversal),
        and the AllItems search folder is not a distinguished one. exchangelib asks for the
        Outbox folder's id once per Account (GetFolder)."""
        folders = FolderCollection(account=account, folders=[account.sent, account.outbox])
        return bool(folders.filter(**{_KEY_FIELD: key}).exists())

    def create_event(self, event: CalendarEvent, key: str) -> EventReceipt:
        # EWS has no transactionId: our UID is the idempotency key. A retry of this row (same
        # key, same UID) finds the item an earlier, unanswered CreateItem made; so does the
        # look-up right after a CreateItem whose answer was lost.
        del key
        with self._calling("create the meeting", event.organizer.email):
            account = self._account(event.organizer.email)
            found = self._find_by_uid(account, event.uid)
            if found is not None:
                return EventReceipt(found.id, ical_uid=found.uid or event.uid)
            item = CalendarItem(account=account, folder=account.calendar, uid=event.uid)
            self._fill(item, event, existing={})
            try:
                with _no_blind_resend():
                    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
            except (_AnswerLost, ews_errors.ErrorTimeoutExpired) as exc:
                found = self._find_by_uid(account, event.uid)
                if found is None:
                    # Not there (yet): the outbox tries again later, and looks up first.
                    reason = str(exc) if isinstance(exc, _AnswerLost) else "a timeout"
                    raise DeliveryUnavailable(
                        f"ews: no answer to creating {event.uid!r} in {event.organizer.email} "
                        f"({reason}) and no such item there yet") from None
                return EventReceipt(found.id, ical_uid=found.uid or event.uid)
        return EventReceipt(item.id, ical_uid=item.uid or event.uid)

    def free_busy(self, mailboxes: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy, OOF and Tentative blocks (BUSY_TYPES) per mailbox, as aware UTC datetimes,
        merged where they overlap. Asked in requests of at most MAX_MAILBOXES mailboxes and
        MAX_WINDOW each. A mailbox the server answers with an error is not left out: the
        whole answer is refused (DeliveryUnavailable when that error is transient,
        DeliveryRejected naming every such mailbox otherwise), because a missing calendar
        would be read as a free one and a meeting planned over the convener's busy time.
        The caller then plans without calendars and says so (scheduler.__main__)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("ews: free_busy needs aware start and end datetimes")
        wanted = list(dict.fromkeys(mailboxes))
        busy: dict[str, list[tuple[datetime, datetime]]] = {m: [] for m in wanted}
        if not wanted or start >= end:
            return busy
        asked = wanted[0] if len(wanted) == 1 else f"{len(wanted)} mailboxes"
        with self._calling("read free/busy", asked):
            # Whom the request acts as: an app-only token must name a mailbox in the
            # ExchangeImpersonation header (exchangelib#735); the first convener's will do.
            account = self._account(wanted[0])
            identity = account.identity if account.access_type == IMPERSONATION else None
            zone = _utc_zone(account.protocol, identity, start.year)
            for window in _windows(start, end):
                unanswered: dict[str, Exception] = {}
                for chunk in _chunks(wanted, MAX_MAILBOXES):
                    views = _ask(account.protocol, identity, zone, chunk, window)
                    for mailbox, view in zip(chunk, views, strict=True):
                        blocks = _busy_blocks(view)
                        if isinstance(blocks, Exception):
                            unanswered[mailbox] = blocks
                        else:
                            busy[mailbox] += blocks
                if unanswered:
                    raise _unanswered(unanswered)
        return {mailbox: _merge(blocks) for mailbox, blocks in busy.items()}

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

    def _find_by_uid(self, account: Any, uid: str) -> Any:
        """The organiser's calendar item with our iCalendar UID, or None (FindItem with an
        IsEqualTo restriction on PidLidGlobalObjectId)."""
        try:
            # Plain bytes: the QuerySet deep-copies its filter, and a copied UID is encoded a
            # second time (UID.__new__ takes the UID text), so nothing would ever match.
            value = bytes(UID(uid))
        except UnicodeEncodeError:  # exchangelib's UID helper writes the UID as ASCII
            raise DeliveryRejected(f"ews: UID {uid!r} is not ASCII; it cannot be looked up, "
                                   "so it is not created either") from None
        found = list(account.calendar.filter(**{_GOID_FIELD: value}).only("uid"))
        if len(found) > 1:
            log.warning("ews: %d items with UID %r in %s; using the first", len(found), uid,
                        account.primary_smtp_address)
        return found[0] if found else None

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
        # Delivery workers call from several threads; one Configuration and one Account per
        # mailbox, or connections would be opened twice and one set never closed.
        with self._accounts_lock:
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
        # Not repr() for the user: it would double the backslash of an NTLM DOMAIN\\user
        # and name an account that does not exist.
        return f"client id {self.client_id!r}" if self.auth == "oauth2" else f"'{self.username}'"

    @contextlib.contextmanager
    def _calling(self, what: str, mailbox: str) -> Iterator[None]:
        """Translate what exchangelib raises into the two outcomes the outbox knows. One
        call at a time: exchangelib 5.6's session pool deadlocks when several threads back
        off at once (each shrinks the pool while waiting for a session the others hold), as
        the delivery contract's ErrorServerBusy case with four workers showed."""
        with self._one_at_a_time:
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


def _message_fields(message: EmailMessage) -> dict[str, Any]:
    """Subject, HTML body and To of a plain message, as exchangelib Message fields. A text
    body is sent as escaped <pre> HTML, so that every message has one body type."""
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    if html_part is not None:
        body = HTMLBody(html_part.get_content())
    else:
        text = "" if text_part is None else text_part.get_content()
        body = HTMLBody(f"<pre>{html.escape(text)}</pre>")
    to = [Mailbox(email_address=a.addr_spec, name=a.display_name or None)
          for a in message["To"].addresses]
    return {"subject": str(message["Subject"]), "body": body, "to_recipients": to}


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
    a 401 is a refused login, and that a CreateItem is not sent twice (_no_blind_resend).
    FaultTolerance takes every 401 for throttling and retries it for up to ``max_wait``
    seconds, which on-prem counts as failed logins towards an AD lockout; _calling still
    treats a 401 after a success as transient."""

    def raise_response_errors(self: Any, response: Any) -> Any:
        _RESEND.answered = True
        if response.status_code == 401:
            raise ews_errors.UnauthorizedError(f"Invalid credentials for {response.url}")
        try:
            return FaultTolerance.raise_response_errors(self, response)
        except (ews_errors.ErrorInternalServerTransientError, ews_errors.ErrorServerBusy) as exc:
            # A 503, an IIS error page, a closed connection: HTTP's answer, not Exchange's,
            # and it may come after Exchange did the work.
            if getattr(_RESEND, "guarded", False):
                raise _AnswerLost(f"HTTP {response.status_code}") from exc
            raise

    def back_off(self: Any, seconds: Any) -> Any:
        if getattr(_RESEND, "guarded", False):
            # exchangelib calls this while it handles the failure (_handle_backoff in
            # services/common.py), so that failure is the exception being handled.
            failure = sys.exc_info()[1]
            lost = (not getattr(_RESEND, "answered", True)
                    or isinstance(failure, ews_errors.ErrorTimeoutExpired))
            if lost and not _never_sent(failure):
                # No HTTP answer at all, or Exchange's own ErrorTimeoutExpired: exchangelib
                # re-sends after a timeout when it has more than one connection
                # (_get_elements). A connection never made may be tried again.
                raise _AnswerLost("no answer before the timeout")
            _RESEND.answered = False  # the next attempt has to be answered in turn
        return FaultTolerance.back_off(self, seconds)

    policy = type("LoginAwareFaultTolerance", (FaultTolerance,),
                  {"raise_response_errors": raise_response_errors, "back_off": back_off})
    return policy(max_wait=max_wait)


_RESEND = threading.local()


def _request_failure(failure: BaseException | None) -> BaseException | None:
    """The EWS request's own transport failure in ``failure``'s chain: the deepest of
    exchangelib's CONNECTION_ERRORS. exchangelib raises it again as ErrorTimeoutExpired
    (util.post_ratelimited), and retiring the session after it can fail in turn (a new
    OAuth session asks the token endpoint first), so the request's own is the last one."""
    found, seen = None, set()
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        if isinstance(failure, CONNECTION_ERRORS):
            found = failure
        failure = failure.__cause__ or failure.__context__
    return found


def _never_sent(failure: BaseException | None) -> bool:
    """Whether ``failure`` certainly came before the request reached the server: no TCP
    connection was made (refused, unreachable, a name not resolved, the connect timeout).
    Everything else (a read timeout, a connection dropped while the answer was awaited)
    may have come after Exchange did the work."""
    origin = _request_failure(failure)
    if isinstance(origin, ConnectTimeout):
        return True
    if isinstance(origin, RequestsConnectionError):
        # urllib3 wraps only connect-phase errors in MaxRetryError when it does not retry;
        # its reason says which. NewConnectionError is a ConnectTimeoutError.
        reason = getattr(origin.args[0] if origin.args else None, "reason", None)
        return isinstance(reason, ConnectTimeoutError)
    return False


def _maybe_sent(failure: BaseException) -> bool:
    """Whether a CreateItem that failed with ``failure`` may have been done by Exchange:
    its answer was lost (_AnswerLost, a timeout, a dropped connection), not refused. A TLS
    failure (TransportError, raised at once, "most likely persistent") is not one."""
    if isinstance(failure, _AnswerLost):
        return True
    lost = isinstance(failure, ews_errors.ErrorTimeoutExpired) or (
        _request_failure(failure) is not None
        and not isinstance(failure, ews_errors.TransportError))
    return lost and not _never_sent(failure)


@contextlib.contextmanager
def _no_blind_resend() -> Iterator[None]:
    """While this thread creates a meeting or sends a message, exchangelib does not send the
    same CreateItem again after a failure that may have come after the work (a 503, a
    timeout, a dropped connection): _AnswerLost is raised instead, and create_event looks
    the UID up, send ends uncertain. A SOAP ErrorServerBusy is still waited out and
    retried (Exchange refused the request before doing anything), and so is a connection
    that was never made."""
    _RESEND.guarded, _RESEND.answered = True, False
    try:
        yield
    finally:
        _RESEND.guarded = False


# -- free/busy ---------------------------------------------------------------------------------


class _Availability(GetUserAvailability):  # type: ignore[misc]
    """GetUserAvailability acting as one mailbox. exchangelib's protocol-level call takes the
    impersonated identity from the credentials, which every Account here shares; and it
    raises most per-mailbox errors instead of returning them, losing the other mailboxes'."""

    ERRORS_TO_CATCH_IN_RESPONSE = (ews_errors.ResponseMessageError,)

    def __init__(self, protocol: Any, identity: Any) -> None:
        super().__init__(protocol=protocol, chunk_size=MAX_MAILBOXES)
        self._identity = identity

    @property
    def _account_to_impersonate(self) -> Any:
        return self._identity


class _ServerTimeZones(GetServerTimeZones):  # type: ignore[misc]
    """GetServerTimeZones acting as one mailbox, for the same reason as _Availability."""

    def __init__(self, protocol: Any, identity: Any) -> None:
        super().__init__(protocol=protocol)
        self._identity = identity

    @property
    def _account_to_impersonate(self) -> Any:
        return self._identity


class _MergedOnly(Exception):
    """The server has only a merged free/busy stream for the mailbox (a legacy or
    cross-forest one, RequestedView), no blocks with times."""


def _utc_zone(protocol: Any, identity: Any, year: int) -> Any:
    """The availability TimeZone for UTC, built from the server's own definition as
    exchangelib's get_free_busy_info does. The answer's times come in this zone without an
    offset ("in the same time zone as the client", GetUserAvailability operation); in UTC
    none is ambiguous, while in Helsinki 03:00-04:00 on the last Sunday of October is
    there twice."""
    definitions = list(_ServerTimeZones(protocol, identity).call(
        timezones=[EWS_UTC], return_full_timezone_data=True))
    if len(definitions) != 1 or isinstance(definitions[0], Exception):
        raise DeliveryRejected("ews: the server gave no time zone definition for UTC")
    return TimeZone.from_server_timezone(tz_definition=definitions[0], for_year=year)


def _ask(protocol: Any, identity: Any, zone: Any, mailboxes: Sequence[str],
         window: tuple[datetime, datetime]) -> list[Any]:
    """One GetUserAvailability request: per mailbox, in the order asked, its FreeBusyView
    or the error in its answer."""
    data = [MailboxData(email=m, attendee_type="Required", exclude_conflicts=False)
            for m in mailboxes]
    return list(_Availability(protocol, identity).call(
        tzinfo=EWS_UTC, mailbox_data=data, timezone=zone,
        free_busy_view_options=_view_options(*window)))


def _view_options(start: datetime, end: datetime) -> Any:
    # FreeBusy: times and status only. Detailed would also bring other people's subjects and
    # locations, which planning does not need (RequestedView).
    return FreeBusyViewOptions(
        time_window=TimeWindow(start=EWSDateTime.from_datetime(start),
                               end=EWSDateTime.from_datetime(end)),
        merged_free_busy_interval=30, requested_view="FreeBusy")


def _windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """``start``..``end`` in pieces of at most MAX_WINDOW, in UTC: 42 days of wall-clock time
    in Helsinki from summer into winter would be 42 days and an hour."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    while start < end:
        stop = min(start + MAX_WINDOW, end)
        yield start, stop
        start = stop


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for first in range(0, len(items), size):
        yield items[first:first + size]


def _busy_blocks(view: Any) -> list[tuple[datetime, datetime]] | Exception:
    """The blocks of one FreeBusyResponse that keep its owner busy, or the error in it."""
    if isinstance(view, Exception):
        return view
    if view.view_type == "MergedOnly":
        return _MergedOnly()
    return [(_utc(event.start), _utc(event.end)) for event in view.calendar_events or []
            if event.busy_type in BUSY_TYPES]


def _utc(moment: datetime) -> datetime:
    # exchangelib's EWSDateTime, in the requested UTC; planning gets plain datetimes
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


def _merge(blocks: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping or touching blocks joined: an appointment across two
    windows comes back in both, whole ("included in its entirety", TimeWindow)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _name(exc: Exception) -> str:
    return "only merged free/busy" if isinstance(exc, _MergedOnly) else exc.__class__.__name__


def _unanswered(problems: dict[str, Exception]) -> DeliveryRejected | DeliveryUnavailable:
    words = ", ".join(f"{mailbox} ({_name(exc)})" for mailbox, exc in problems.items())
    if any(isinstance(exc, _TRANSIENT) for exc in problems.values()):
        return DeliveryUnavailable(f"ews: free/busy was not answered for {words}")
    return DeliveryRejected(f"ews: the server cannot tell free/busy for {words}")


class _Redaction(logging.Filter):
    """Rewrites log records that carry credentials. exchangelib logs every request's
    headers (Authorization included) at DEBUG in exchangelib.util, requests-oauthlib
    logs the token request body (client_secret) and the token response (exchangelib#924),
    and pyspnego logs each NTLM message at DEBUG ("NTLM step input/output", spnego._ntlm),
    the AUTHENTICATE one with its NTLMv2 response, from which the password can be
    guessed offline (MS-NLMP 5.1, "Security Considerations for Implementers")."""

    PATTERNS = (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+"),
        re.compile(r"(?i)((?:client_secret|access_token|refresh_token|id_token|password)"
                   r"['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"),
        re.compile(r"(NTLM step (?:input|output): )\S+"),
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
                     "requests_oauthlib.oauth2_auth", "spnego._ntlm")
_installed = threading.Lock()


def _install_redaction() -> None:
    # A filter on a logger sees only that logger's own records, so each source is named.
    with _installed:
        for name in _REDACTED_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACTION not in logger.filters:
                logger.addFilter(_REDACTION)
