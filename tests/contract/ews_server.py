"""A small Exchange Web Services peer for the ``ews`` backend's contract tests.

A threaded HTTP server on 127.0.0.1 (a free port) that answers the SOAP operations
exchangelib 5.6 sends for our calls: GetFolder (``account.calendar`` / ``account.sent``),
CreateItem (a CalendarItem, a Message with SendAndSaveCopy, a CancelCalendarItem),
GetItem, UpdateItem, FindItem by the meeting's PidLidGlobalObjectId (our UID) or by a sent
message's outbox key (a named property in PS_PUBLIC_STRINGS, in Sent Items or the Outbox), and for
free/busy GetServerTimeZones and GetUserAvailability (the XML of Microsoft's examples in
the operations' reference pages); and an OAuth2 token endpoint (client credentials), so the
real token request runs too. Calendar items are kept in memory per mailbox with their
attendees and UID; they, and busy blocks a test adds, make the free/busy answers. Every
request is recorded with its headers and parsed XML, and faults can be scripted:
ErrorServerBusy with BackOffMilliseconds (a request back before it is counted), HTTP 503,
HTTP 401, a slow answer, a 503 or a slow answer after the work was done, and a connection
closed without an answer (before or after the work).
With ``ntlm_users`` the EWS endpoint requires NTLM, as an on-premises IIS does: the
handshake (NEGOTIATE, CHALLENGE, AUTHENTICATE) authenticates the keep-alive connection, and
pyspnego's own NTLM acceptor checks the client's AUTHENTICATE message against the users'
passwords (a wrong password is a 401), so the client's NTLM is verified, not just accepted.
It is a test double for the parts we use, not an Exchange emulator (tech.md section 3).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import struct
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

import spnego
from spnego.exceptions import SpnegoError

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
EWS_PATH = "/EWS/Exchange.asmx"
TOKEN_PATH = "/oauth2/v2.0/token"

ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<s:Envelope xmlns:s="{S}"><s:Header>'
    f'<h:ServerVersionInfo xmlns:h="{T}" MajorVersion="15" MinorVersion="1" '
    'MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"/>'
    "</s:Header><s:Body>{}</s:Body></s:Envelope>")
NS = f'xmlns:m="{M}" xmlns:t="{T}"'

# A CreateItem that sends (a Message, a CancelCalendarItem) returns no item id.
_SENT = ('<m:CreateItemResponseMessage ResponseClass="Success">'
         "<m:ResponseCode>NoError</m:ResponseCode><m:Items/></m:CreateItemResponseMessage>")

FaultKind = Literal["busy", "503", "401", "delay", "drop"]

# Our outbox key on sent messages (scheduler.delivery.ews.fields.OutboxKey, graph.KEY_PROPERTY):
# a named string property in PS_PUBLIC_STRINGS, which EWS may also call "PublicStrings".
PS_PUBLIC_STRINGS = "00020329-0000-0000-c000-000000000046"
OUTBOX_KEY_NAME = "yhdyspinta-outbox-key"


@dataclass
class Fault:
    """One scripted failure, used for the next ``times`` EWS requests (``operation`` limits
    it to one SOAP operation), after letting ``skip`` of them through. ``delay`` sleeps
    before answering normally. With ``after_work`` a ``503`` or a ``delay`` comes after the
    operation was done: the item is created, its answer lost (a proxy's 503, a timeout).
    ``drop`` waits ``delay`` seconds and closes the connection without an answer; the
    operation is done only with ``after_work`` (a timeout or a dropped connection before or
    after the work: the client cannot tell which)."""

    kind: FaultKind
    times: int = 1
    back_off_ms: int = 50
    delay: float = 0.0
    operation: str | None = None
    after_work: bool = False
    skip: int = 0


@dataclass
class Recorded:
    """One EWS request as it arrived."""

    operation: str  # the first element of the SOAP body: CreateItem, GetItem, ...
    headers: dict[str, str]
    body: str
    root: ET.Element
    user: str | None = None  # who NTLM authenticated on its connection (DOMAIN\user)
    connection: int = 0  # which TCP connection it came on, numbered from 1

    @property
    def impersonating(self) -> str | None:
        return self.root.findtext(f".//{{{T}}}ExchangeImpersonation//{{{T}}}PrimarySmtpAddress")

    @property
    def timezone(self) -> str | None:
        zone = self.root.find(f".//{{{T}}}TimeZoneContext/{{{T}}}TimeZoneDefinition")
        return None if zone is None else zone.get("Id")

    @property
    def attributes(self) -> dict[str, str]:
        body = self.root.find(f"{{{S}}}Body")
        assert body is not None
        return dict(body[0].attrib)

    def items(self) -> list[ET.Element]:
        """The item elements of a CreateItem (CalendarItem, Message, CancelCalendarItem)."""
        container = self.root.find(f".//{{{M}}}Items")
        return [] if container is None else list(container)


@dataclass
class Attendee:
    email: str
    name: str
    response: str = "Unknown"


@dataclass
class StoredItem:
    """A calendar item in a mailbox, with the fields we read and write."""

    mailbox: str
    item_id: str
    changekey: str
    uid: str
    subject: str = ""
    body: str = ""
    body_type: str = "HTML"
    start: str = ""
    end: str = ""
    location: str = ""
    reminder_minutes: int = 15
    reminder_set: bool = False
    attendees: list[Attendee] = field(default_factory=list)
    cancelled: bool = False
    free_busy: str = "Busy"  # LegacyFreeBusyStatus


@dataclass
class BusyBlock:
    """Time a mailbox's calendar shows as taken besides our items (other appointments)."""

    mailbox: str
    start: datetime  # aware
    end: datetime
    busy_type: str = "Busy"  # Free, Tentative, Busy, OOF, WorkingElsewhere, NoData


@dataclass
class SentMessage:
    """What the mailbox sent: a Message, an invitation, an update or a cancellation."""

    mailbox: str
    kind: Literal["message", "invitation", "update", "cancellation"]
    subject: str
    body: str
    body_type: str
    to: list[tuple[str, str]]  # (address, name)
    outbox_key: str | None = None  # our extended property on a Message, as it arrived
    folder: str | None = None  # where its copy is: "sentitems", "outbox", None (not kept)
    item_id: str = ""


@dataclass
class Connection:
    """One client TCP connection, with its NTLM state. NTLM authenticates the connection, not
    the request: after the handshake the client sends its requests on it without an
    Authorization header, and a new connection starts unauthenticated (MS-NTHT, "NTLM Over
    HTTP Protocol", and IIS's connection-based Windows authentication)."""

    number: int
    acceptor: Any = None  # pyspnego's NTLM acceptor, between CHALLENGE and AUTHENTICATE
    user: str | None = None  # who the handshake authenticated


# What a 401 offers when NTLM is required. IIS sends "Negotiate" and "NTLM" as two header
# fields; one field listing both challenges means the same (RFC 9110 section 11.6.1).
NTLM_OFFER = "Negotiate, NTLM"
_NTLM_SIGNATURE = b"NTLMSSP\0"  # MS-NLMP 2.2.1: every NTLM message starts with it


class EwsServer:
    """The peer itself; ``start()``/``stop()``, or use as a context manager."""

    def __init__(self, *, token: str = "test-access-token", client_secret: str | None = None,
                 authorization: str | None = None,
                 ntlm_users: dict[str, str] | None = None) -> None:
        self.token = token  # what the token endpoint issues
        self.client_secret = client_secret  # None: any secret gets a token
        self.authorization = authorization  # the Authorization header EWS expects; None: any
        # "DOMAIN\\user" (or "user@domain") -> password; None: NTLM is not asked for
        self.ntlm_users = ntlm_users
        self.ntlm_challenges = 0  # NEGOTIATE messages answered with a CHALLENGE
        self.ntlm_logins: list[tuple[int, str]] = []  # (connection, user) per AUTHENTICATE accepted
        self.ntlm_refusals = 0  # AUTHENTICATE messages refused (a wrong password, a bad token)
        self.ntlm_tokens: list[str] = []  # every NTLM token the client sent, base64
        self._ntlm_file: str | None = None
        self._saved_ntlm_file: str | None = None
        self._connections = itertools.count(1)
        self.requests: list[Recorded] = []
        self.token_requests: list[dict[str, list[str]]] = []
        self.items: dict[str, StoredItem] = {}  # by ItemId
        self.sent: list[SentMessage] = []
        self.faults: list[Fault] = []
        self.invalid_recipients: set[str] = set()
        self.busy_blocks: list[BusyBlock] = []
        self.free_busy_errors: dict[str, str] = {}  # mailbox -> ResponseCode in its answer
        self.early_requests = 0  # requests back before an ErrorServerBusy's back-off ended
        # True: a sent message stays in the Outbox (transport has not taken it yet) instead
        # of its copy going to Sent Items at once.
        self.hold_in_outbox = False
        # False: every answer closes its connection (Connection: close), so that after
        # stop() the client's next request has to connect, and is refused.
        self.keep_alive = True
        self._busy_until = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._http.server_port}{EWS_PATH}"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_port}{TOKEN_PATH}"

    def start(self) -> Self:
        if self.ntlm_users is not None:
            self._write_ntlm_users(self.ntlm_users)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        if self._ntlm_file is not None:
            if self._saved_ntlm_file is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = self._saved_ntlm_file
            os.unlink(self._ntlm_file)
            self._ntlm_file = None

    def _write_ntlm_users(self, users: dict[str, str]) -> None:
        """pyspnego's NTLM acceptor knows users only from the file NTLM_USER_FILE names, read
        at each AUTHENTICATE; its "DOMAIN:USER:PASSWORD" lines (spnego._ntlm._get_credential,
        the format gss-ntlmssp reads too) need the domain apart, and an empty one for a UPN.
        The variable is process-wide: one NTLM server at a time."""
        lines = []
        for name, password in users.items():
            domain, _, user = name.rpartition("\\")
            if any(c in part for part in (domain, user, password) for c in ":\r\n"):
                raise ValueError("ntlm_users: no ':' or line break in a name or password "
                                 "(pyspnego's user file is colon-separated lines)")
            lines.append(f"{domain}:{user}:{password}\n")
        handle, self._ntlm_file = tempfile.mkstemp(prefix="ews-ntlm-users-")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.writelines(lines)
        self._saved_ntlm_file = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = self._ntlm_file

    def connection(self) -> Connection:
        """A new client connection (the request handler makes one per TCP connection)."""
        return Connection(next(self._connections))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read and set -------------------------------------------------------------

    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    def messages(self, mailbox: str) -> list[SentMessage]:
        """Plain messages ``mailbox`` sent, in order."""
        return [m for m in self.sent if m.kind == "message" and m.mailbox == mailbox.lower()]

    def calendar(self, mailbox: str) -> list[StoredItem]:
        return [i for i in self.items.values() if i.mailbox == mailbox.lower()]

    def add_busy(self, mailbox: str, start: datetime, end: datetime,
                 busy_type: str = "Busy") -> None:
        """Another appointment in ``mailbox``'s calendar, for GetUserAvailability."""
        with self._lock:
            self.busy_blocks.append(BusyBlock(mailbox.lower(), start, end, busy_type))

    def respond(self, item_id: str, email: str, response: str) -> None:
        """An attendee answers (Accept, Decline, Tentative, NoResponseReceived)."""
        for attendee in self.items[item_id].attendees:
            if attendee.email == email:
                attendee.response = response

    # -- request handling --------------------------------------------------------------------

    def _fault_for(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.operation in (None, operation):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def handle_ews(self, headers: dict[str, str], body: str,
                   connection: Connection | None = None) -> tuple[int, dict[str, str], str]:
        connection = connection or self.connection()
        if self.ntlm_users is not None:
            refused = self._ntlm(headers, connection)
            if refused is not None:
                return refused  # a handshake step or a refusal: nothing is recorded or done
        root = ET.fromstring(body)
        soap_body = root.find(f"{{{S}}}Body")
        assert soap_body is not None and len(soap_body), "a SOAP request without a body"
        # GetUserAvailability's body element is GetUserAvailabilityRequest (its example)
        operation = soap_body[0].tag.split("}")[1].removesuffix("Request")
        with self._lock:
            self.requests.append(Recorded(operation, headers, body, root, connection.user,
                                          connection.number))
            if time.monotonic() < self._busy_until:
                self.early_requests += 1
        fault = self._fault_for(operation)
        if fault is not None and fault.kind == "drop":
            time.sleep(fault.delay)
            if not fault.after_work:
                return 0, {}, ""  # no answer, nothing done
        elif fault is not None and not fault.after_work:
            if fault.kind == "delay":
                time.sleep(fault.delay)
            elif fault.kind == "busy":
                with self._lock:
                    self._busy_until = time.monotonic() + fault.back_off_ms / 1000
                return 500, {}, _server_busy(fault.back_off_ms)
            elif fault.kind == "503":
                return 503, {}, "Service Unavailable"
        if (fault is not None and fault.kind == "401") or (
                self.authorization is not None and headers.get("Authorization") != self.authorization):
            offer = NTLM_OFFER if self.ntlm_users is not None else 'Basic realm="ews"'
            return 401, {"WWW-Authenticate": offer}, ""
        # Whose mailbox: the impersonated one, else the one named in the request (a delegate
        # with FullAccess), else the signed-in user's own (Basic only; enough for these tests).
        mailbox = (_find(root, "ExchangeImpersonation", "PrimarySmtpAddress")
                   or headers.get("X-AnchorMailbox", "")
                   or _find(root, "DistinguishedFolderId", "EmailAddress")
                   or _basic_user(headers.get("Authorization", ""))).lower()
        request = soap_body[0]
        with self._lock:
            answer = getattr(self, f"_{operation}")(mailbox, request)
        if fault is not None and fault.after_work and fault.kind == "503":
            return 503, {}, "Service Unavailable"
        if fault is not None and fault.kind == "drop":
            return 0, {}, ""  # done, and the connection closed before the answer
        if fault is not None and fault.after_work and fault.kind == "delay":
            time.sleep(fault.delay)  # the client has given up: the answer goes nowhere
        if answer.startswith("<s:Fault>"):
            return 500, {}, ENVELOPE.format(answer)
        return 200, {}, ENVELOPE.format(answer)

    def _ntlm(self, headers: dict[str, str], connection: Connection
              ) -> tuple[int, dict[str, str], str] | None:
        """None when ``connection`` is authenticated (by this request's AUTHENTICATE or an
        earlier one), else the 401 to answer: an offer of NTLM, or the CHALLENGE to the
        client's NEGOTIATE (MS-NLMP 1.3.1.1, connection-oriented; MS-NTHT 3.2.5). The
        client sends the whole request with each step; only the AUTHENTICATE one is done."""
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("ntlm", "negotiate") or not token:
            if connection.user is not None:
                return None  # an authenticated connection: no header needed
            return 401, {"WWW-Authenticate": NTLM_OFFER}, ""
        with self._lock:
            self.ntlm_tokens.append(token.strip())
        try:
            message = base64.b64decode(token.strip(), validate=True)
        except ValueError:
            message = b""
        # MS-NLMP 2.2.1: MessageType, 4 bytes little-endian after the signature
        kind = int.from_bytes(message[8:12], "little") if message.startswith(_NTLM_SIGNATURE) else 0
        acceptor, connection.acceptor, connection.user = connection.acceptor, None, None
        try:
            if kind == 1:  # NEGOTIATE: a new handshake, on a new or an authenticated connection
                # use_ntlm: pyspnego's own NTLM, not a system GSSAPI or SSPI one
                acceptor = spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
                challenge = acceptor.step(message) or b""
                connection.acceptor = acceptor
                with self._lock:
                    self.ntlm_challenges += 1
                return 401, {"WWW-Authenticate":
                             f"{scheme} {base64.b64encode(challenge).decode()}"}, ""
            if kind != 3 or acceptor is None:
                raise ValueError("an NTLM message out of turn")
            acceptor.step(message)  # checks the NTLMv2 response and the MIC; raises if wrong
            user = str(acceptor.client_principal)
        except (SpnegoError, ValueError, IndexError, struct.error):
            # Refused by the acceptor (SpnegoError) or not parsed as NTLM: a failed login,
            # answered as IIS does, with a fresh offer.
            with self._lock:
                self.ntlm_refusals += 1
            return 401, {"WWW-Authenticate": NTLM_OFFER}, ""
        connection.user = user
        with self._lock:
            self.ntlm_logins.append((connection.number, user))
        return None

    def handle_token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.token_requests.append(form)
        secret = (form.get("client_secret") or [""])[0]
        if self.client_secret is not None and secret != self.client_secret:
            return 401, {"Content-Type": "application/json"}, json.dumps({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided."})
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "access_token": self.token, "token_type": "Bearer", "expires_in": 3600})

    # -- operations (called with the lock held) ----------------------------------------------

    def _GetFolder(self, mailbox: str, request: ET.Element) -> str:
        messages = ""
        for folder in request.iter(f"{{{T}}}DistinguishedFolderId"):
            name = folder.get("Id", "")
            tag, cls = ("CalendarFolder", "IPF.Appointment") if name == "calendar" else (
                "Folder", "IPF.Note")
            messages += (
                '<m:GetFolderResponseMessage ResponseClass="Success">'
                "<m:ResponseCode>NoError</m:ResponseCode><m:Folders>"
                f'<t:{tag}><t:FolderId Id="F-{mailbox}-{name}" ChangeKey="C"/>'
                f"<t:FolderClass>{cls}</t:FolderClass><t:DisplayName>{name}</t:DisplayName>"
                f"</t:{tag}></m:Folders></m:GetFolderResponseMessage>")
        return _response("GetFolder", messages)

    def _CreateItem(self, mailbox: str, request: ET.Element) -> str:
        invitations = request.get("SendMeetingInvitations", "SendToNone")
        messages = ""
        for element in request.find(f"{{{M}}}Items") or []:
            kind = element.tag.split("}")[1]
            if kind == "CalendarItem":
                messages += self._create_calendar_item(mailbox, element, invitations)
            elif kind == "Message":
                messages += self._send_message(mailbox, element, request.get("MessageDisposition"),
                                               _saved_folder(request, mailbox))
            elif kind == "CancelCalendarItem":
                messages += self._cancel(mailbox, element)
            else:
                messages += _error("CreateItem", "ErrorInvalidRequest", f"not served: {kind}")
        return _response("CreateItem", messages)

    def _create_calendar_item(self, mailbox: str, element: ET.Element, invitations: str) -> str:
        attendees = _attendees(element)
        refused = [a.email for a in attendees if a.email in self.invalid_recipients]
        if refused:
            return _error("CreateItem", "ErrorInvalidRecipients",
                          f"At least one recipient isn't valid: {refused[0]}")
        number = next(self._ids)
        item = StoredItem(mailbox=mailbox, item_id=f"AAMkAD-{number}", changekey=f"CK{number}-1",
                          uid=_text(element, "UID") or f"server-uid-{number}", attendees=attendees)
        _apply(item, element)
        self.items[item.item_id] = item
        if invitations != "SendToNone" and attendees:
            self._notify(item, "invitation", attendees)
        return _item_message("CreateItem", item)

    def _send_message(self, mailbox: str, element: ET.Element, disposition: str | None,
                      saved_in: str | None) -> str:
        body = element.find(f"{{{T}}}Body")
        to = [(_text(m, "EmailAddress"), _text(m, "Name"))
              for m in element.iterfind(f"{{{T}}}ToRecipients/{{{T}}}Mailbox")]
        refused = [address for address, _ in to if address in self.invalid_recipients]
        if refused:
            return _error("CreateItem", "ErrorInvalidRecipients",
                          f"At least one recipient isn't valid: {refused[0]}")
        if disposition == "SaveOnly":
            return _error("CreateItem", "ErrorInvalidRequest", "drafts are not served")
        # SendAndSaveCopy keeps a copy, in Sent Items unless SavedItemFolderId names another
        # folder (MessageDispositionType); SendOnly keeps none.
        folder = None if disposition == "SendOnly" else saved_in or "sentitems"
        if folder is not None and self.hold_in_outbox:
            folder = "outbox"
        self.sent.append(SentMessage(
            mailbox, "message", _text(element, "Subject"), "" if body is None else body.text or "",
            "Text" if body is None else body.get("BodyType", "Text"), to,
            outbox_key=_outbox_key(element), folder=folder,
            item_id=f"AAMkAD-message-{next(self._ids)}"))
        return _SENT

    def _cancel(self, mailbox: str, element: ET.Element) -> str:
        reference = element.find(f"{{{T}}}ReferenceItemId")
        item = self.items.get("" if reference is None else reference.get("Id", ""))
        if item is None or item.mailbox != mailbox:
            return _error("CreateItem", "ErrorItemNotFound",
                          "The specified object was not found in the store.")
        if item.cancelled:
            return _error("CreateItem", "ErrorCalendarIsCancelledForDecline",
                          "The meeting is already cancelled.")
        item.cancelled = True
        item.changekey = _next_changekey(item.changekey)
        body = element.find(f"{{{T}}}Body")  # exchangelib sends Body, not NewBodyContent
        self.sent.append(SentMessage(
            mailbox, "cancellation", f"Canceled: {item.subject}",
            "" if body is None else body.text or "", "Text" if body is None else body.get(
                "BodyType", "Text"), [(a.email, a.name) for a in item.attendees]))
        return _SENT

    def _GetItem(self, mailbox: str, request: ET.Element) -> str:
        messages = ""
        for item_id in request.iter(f"{{{T}}}ItemId"):
            item = self.items.get(item_id.get("Id", ""))
            if item is None or item.mailbox != mailbox:
                messages += _error("GetItem", "ErrorItemNotFound",
                                   "The specified object was not found in the store.")
            else:
                messages += _item_message("GetItem", item, full=True)
        return _response("GetItem", messages)

    def _UpdateItem(self, mailbox: str, request: ET.Element) -> str:
        invitations = request.get("SendMeetingInvitationsOrCancellations", "SendToNone")
        messages = ""
        for change in request.iter(f"{{{T}}}ItemChange"):
            item_id = change.find(f"{{{T}}}ItemId")
            item = self.items.get("" if item_id is None else item_id.get("Id", ""))
            if item is None or item.mailbox != mailbox:
                messages += _error("UpdateItem", "ErrorItemNotFound",
                                   "The specified object was not found in the store.")
                continue
            before = {a.email for a in item.attendees}
            for update in change.iter(f"{{{T}}}SetItemField"):
                for value in update.iter(f"{{{T}}}CalendarItem"):
                    _apply(item, value)
                    if value.find(f"{{{T}}}RequiredAttendees") is not None:
                        item.attendees = _attendees(value)
            item.changekey = _next_changekey(item.changekey)
            if invitations != "SendToNone":
                self._notify(item, "update", item.attendees)
                gone = [a for a in before if a not in {x.email for x in item.attendees}]
                if gone:
                    self.sent.append(SentMessage(mailbox, "cancellation", item.subject, "",
                                                 "Text", [(g, "") for g in gone]))
            messages += _item_message("UpdateItem", item)
        return _response("UpdateItem", messages)

    def _FindItem(self, mailbox: str, request: ET.Element) -> str:
        """Calendar items, all or those whose PidLidGlobalObjectId (or the Clean one) equals
        the restriction's value (how a meeting is found by its iCalendar UID); or sent
        messages whose outbox key equals it. One FindItemResponseMessage per folder of
        ParentFolderIds, in their order (exchangelib expects as many as it asked), each with
        at most MaxEntriesReturned of an IndexedPageItemView."""
        restriction = request.find(f"{{{M}}}Restriction")
        uid = key = None
        if restriction is not None:
            uid, key = _wanted_global_object_id(restriction), _wanted_outbox_key(restriction)
            if uid is None and key is None:
                return _response("FindItem", _error(
                    "FindItem", "ErrorUnsupportedQueryFilter",
                    "Only a PidLidGlobalObjectId or outbox key restriction is served."))
        view = request.find(f"{{{M}}}IndexedPageItemView")
        messages = ""
        for folder in _parent_folders(request, mailbox):
            if key is not None:
                items = [f'<t:Message><t:ItemId Id={quoteattr(m.item_id)} ChangeKey="CK-1"/>'
                         "</t:Message>" for m in self.messages(mailbox)
                         if m.folder == folder and m.outbox_key == key]
            else:
                items = self._meetings(mailbox, folder, uid)
            limit = len(items) if view is None else int(view.get("MaxEntriesReturned", len(items)))
            messages += (
                '<m:FindItemResponseMessage ResponseClass="Success">'
                "<m:ResponseCode>NoError</m:ResponseCode>"
                f'<m:RootFolder TotalItemsInView="{len(items)}" '
                f'IncludesLastItemInRange="{str(limit >= len(items)).lower()}">'
                f"<t:Items>{''.join(items[:limit])}</t:Items></m:RootFolder>"
                "</m:FindItemResponseMessage>")
        return _response("FindItem", messages)

    def _meetings(self, mailbox: str, folder: str, goid: bytes | None) -> list[str]:
        # The organiser's cancelled meeting leaves the calendar (CancelCalendarItem).
        found = [item for item in self.calendar(mailbox) if folder == "calendar"
                 and not item.cancelled and (goid is None or _global_object_id(item.uid) == goid)]
        return [f"<t:CalendarItem><t:ItemId Id={quoteattr(i.item_id)} "
                f"ChangeKey={quoteattr(i.changekey)}/><t:UID>{escape(i.uid)}</t:UID></t:CalendarItem>"
                for i in found]

    def _GetServerTimeZones(self, mailbox: str, request: ET.Element) -> str:
        del mailbox
        full = request.get("ReturnFullTimeZoneData", "false") in ("true", "1")
        ids = [e.text or "" for e in request.iter(f"{{{T}}}Id")] or list(_TIME_ZONES)
        unknown = [i for i in ids if i not in _TIME_ZONES]
        if unknown:
            return _response("GetServerTimeZones", _error(
                "GetServerTimeZones", "ErrorTimeZone", f"Unknown time zone: {unknown[0]}"))
        definitions = "".join(
            f"<t:TimeZoneDefinition Id={quoteattr(i)} Name={quoteattr(_TIME_ZONES[i][0])}>"
            f"{_TIME_ZONES[i][1] if full else ''}</t:TimeZoneDefinition>" for i in ids)
        return _response("GetServerTimeZones", (
            '<m:GetServerTimeZonesResponseMessage ResponseClass="Success">'
            "<m:ResponseCode>NoError</m:ResponseCode>"
            f"<m:TimeZoneDefinitions>{definitions}</m:TimeZoneDefinitions>"
            "</m:GetServerTimeZonesResponseMessage>"))

    def _GetUserAvailability(self, mailbox: str, request: ET.Element) -> str:
        """Per mailbox one FreeBusyResponse, in the order asked (GetUserAvailability
        operation), with the items and busy blocks that touch the window, whole, in the
        request's time zone without an offset, as Exchange answers."""
        del mailbox
        zone = _AvailabilityZone.parse(request.find(f"{{{T}}}TimeZone"))
        options = request.find(f"{{{T}}}FreeBusyViewOptions")
        assert options is not None, "GetUserAvailability without FreeBusyViewOptions"
        start = zone.to_utc(_find(options, "TimeWindow", "StartTime"))
        end = zone.to_utc(_find(options, "TimeWindow", "EndTime"))
        view = _find(options, "RequestedView")
        interval = int(_find(options, "MergedFreeBusyIntervalInMinutes") or 30)
        asked = [(_find(m, "Email", "Address") or "").lower()
                 for m in request.iter(f"{{{T}}}MailboxData")]
        if len(asked) > MAX_AVAILABILITY_MAILBOXES:
            # The code Exchange uses is not documented; this one stands in for it.
            return _soap_fault("ErrorInvalidRequest", f"{len(asked)} mailboxes; at most "
                               f"{MAX_AVAILABILITY_MAILBOXES} in one request")
        answers = ""
        for address in asked:
            if end - start > MAX_AVAILABILITY_WINDOW:
                answers += _free_busy_error("ErrorTimeIntervalTooBig",
                                            "The time window is larger than 42 days.")
            elif address in self.free_busy_errors:
                answers += _free_busy_error(self.free_busy_errors[address],
                                            f"No free/busy for {address}.")
            else:
                answers += _free_busy_view(self._busy_of(address, start, end), view, zone,
                                           start, end, interval)
        return (f"<m:GetUserAvailabilityResponse {NS}><m:FreeBusyResponseArray>{answers}"
                "</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>")

    def _busy_of(self, mailbox: str, start: datetime, end: datetime) -> list[BusyBlock]:
        blocks = [BusyBlock(mailbox, datetime.fromisoformat(i.start), datetime.fromisoformat(i.end),
                            i.free_busy)
                  for i in self.calendar(mailbox) if not i.cancelled and i.start and i.end]
        blocks += [b for b in self.busy_blocks if b.mailbox == mailbox]
        return sorted((b for b in blocks if b.start < end and b.end > start),
                      key=lambda b: (b.start, b.end))

    def _notify(self, item: StoredItem, kind: Literal["invitation", "update"],
                attendees: list[Attendee]) -> None:
        self.sent.append(SentMessage(item.mailbox, kind, item.subject, item.body, item.body_type,
                                     [(a.email, a.name) for a in attendees]))


# -- XML helpers -------------------------------------------------------------------------------


def _find(root: ET.Element, *path: str) -> str:
    found = root.find(".//" + "//".join(f"{{{T}}}{p}" for p in path))
    return "" if found is None else (found.text or "")


def _text(element: ET.Element, name: str) -> str:
    return element.findtext(f"{{{T}}}{name}") or ""


def _attendees(element: ET.Element) -> list[Attendee]:
    return [Attendee(_find(a, "Mailbox", "EmailAddress"),
                     _find(a, "Name"), _text(a, "ResponseType") or "Unknown")
            for a in element.iterfind(f"{{{T}}}RequiredAttendees/{{{T}}}Attendee")]


def _apply(item: StoredItem, element: ET.Element) -> None:
    """Copy the fields present in ``element`` (a CalendarItem) onto ``item``."""
    for name, attribute in (("Subject", "subject"), ("Start", "start"), ("End", "end"),
                            ("Location", "location")):
        if element.find(f"{{{T}}}{name}") is not None:
            setattr(item, attribute, _text(element, name))
    body = element.find(f"{{{T}}}Body")
    if body is not None:
        item.body, item.body_type = body.text or "", body.get("BodyType", "Text")
    if element.find(f"{{{T}}}ReminderIsSet") is not None:
        item.reminder_set = _text(element, "ReminderIsSet") in ("true", "1")
    if element.find(f"{{{T}}}ReminderMinutesBeforeStart") is not None:
        item.reminder_minutes = int(_text(element, "ReminderMinutesBeforeStart"))
    if element.find(f"{{{T}}}LegacyFreeBusyStatus") is not None:
        item.free_busy = _text(element, "LegacyFreeBusyStatus")


def _basic_user(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme != "Basic":
        return ""
    return base64.b64decode(value).decode("utf-8").partition(":")[0]


def _next_changekey(changekey: str) -> str:
    stem, _, n = changekey.rpartition("-")
    return f"{stem}-{int(n) + 1}"


def _response(operation: str, messages: str) -> str:
    return (f"<m:{operation}Response {NS}><m:ResponseMessages>{messages}"
            f"</m:ResponseMessages></m:{operation}Response>")


def _error(operation: str, code: str, text: str) -> str:
    return (f'<m:{operation}ResponseMessage ResponseClass="Error">'
            f"<m:MessageText>{escape(text)}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>"
            f"<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/>"
            f"</m:{operation}ResponseMessage>")


def _item_message(operation: str, item: StoredItem, full: bool = False) -> str:
    fields = ""
    if full:
        attendees = "".join(
            f"<t:Attendee><t:Mailbox><t:Name>{escape(a.name)}</t:Name>"
            f"<t:EmailAddress>{escape(a.email)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
            f"</t:Mailbox><t:ResponseType>{a.response}</t:ResponseType></t:Attendee>"
            for a in item.attendees)
        fields = (
            f"<t:Subject>{escape(item.subject)}</t:Subject>"
            f"<t:Body BodyType={quoteattr(item.body_type)}>{escape(item.body)}</t:Body>"
            f"<t:ReminderIsSet>{str(item.reminder_set).lower()}</t:ReminderIsSet>"
            f"<t:ReminderMinutesBeforeStart>{item.reminder_minutes}</t:ReminderMinutesBeforeStart>"
            f"<t:UID>{escape(item.uid)}</t:UID>"
            f"<t:Start>{item.start}</t:Start><t:End>{item.end}</t:End>"
            f"<t:Location>{escape(item.location)}</t:Location>"
            f"<t:IsCancelled>{str(item.cancelled).lower()}</t:IsCancelled>")
        if attendees:
            fields += f"<t:RequiredAttendees>{attendees}</t:RequiredAttendees>"
    return (f'<m:{operation}ResponseMessage ResponseClass="Success">'
            f"<m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem>"
            f"<t:ItemId Id={quoteattr(item.item_id)} ChangeKey={quoteattr(item.changekey)}/>"
            f"{fields}</t:CalendarItem></m:Items></m:{operation}ResponseMessage>")


# -- meetings by UID ---------------------------------------------------------------------------

# MS-OXOCAL 2.2.1.27 PidLidGlobalObjectId: the class id, then the instance date (YH YL M D,
# zero for the meeting itself), the creation time, 8 reserved bytes, the size and the data.
# A UID that is not an Outlook one in hex is wrapped as "vCal-Uid", 1, the UID, NUL
# (MS-OXCICAL, UID); that is how Exchange stores the UID a CreateItem sets.
_GOID_CLASS = bytes.fromhex("040000008200E00074C5B7101A82E008")


def _global_object_id(uid: str) -> bytes:
    try:
        outlook = bytes.fromhex(uid)
    except ValueError:
        outlook = b""
    if outlook.startswith(_GOID_CLASS):
        return outlook
    data = b"vCal-Uid" + (1).to_bytes(4, "little") + uid.encode("utf-8") + b"\0"
    return _GOID_CLASS + bytes(4) + bytes(8) + bytes(8) + len(data).to_bytes(4, "little") + data


def _wanted_global_object_id(restriction: ET.Element) -> bytes | None:
    """The value of ``IsEqualTo(PSETID_Meeting 0x3 or 0x23, binary)``, else None."""
    equal = restriction.find(f"{{{T}}}IsEqualTo")
    field_uri = None if equal is None else equal.find(f"{{{T}}}ExtendedFieldURI")
    constant = None if equal is None else equal.find(f".//{{{T}}}Constant")
    if field_uri is None or constant is None:
        return None
    if (field_uri.get("DistinguishedPropertySetId"), field_uri.get("PropertyType")) != (
            "Meeting", "Binary") or int(field_uri.get("PropertyId", "0"), 0) not in (0x3, 0x23):
        return None
    return base64.b64decode(constant.get("Value", ""))


# -- sent messages by outbox key ---------------------------------------------------------------


def _is_outbox_key(field_uri: ET.Element | None) -> bool:
    if field_uri is None:
        return False
    property_set = (field_uri.get("PropertySetId") or "").lower()
    return ((property_set == PS_PUBLIC_STRINGS
             or field_uri.get("DistinguishedPropertySetId") == "PublicStrings")
            and field_uri.get("PropertyName") == OUTBOX_KEY_NAME
            and field_uri.get("PropertyType") == "String")


def _outbox_key(element: ET.Element) -> str | None:
    """The value of our outbox key among a Message's ExtendedProperty elements."""
    for prop in element.iterfind(f"{{{T}}}ExtendedProperty"):
        if _is_outbox_key(prop.find(f"{{{T}}}ExtendedFieldURI")):
            return prop.findtext(f"{{{T}}}Value") or ""
    return None


def _wanted_outbox_key(restriction: ET.Element) -> str | None:
    """The value of ``IsEqualTo(PS_PUBLIC_STRINGS yhdyspinta-outbox-key, string)``, else None."""
    equal = restriction.find(f"{{{T}}}IsEqualTo")
    if equal is None or not _is_outbox_key(equal.find(f"{{{T}}}ExtendedFieldURI")):
        return None
    constant = equal.find(f".//{{{T}}}Constant")
    return None if constant is None else constant.get("Value", "")


def _folder_name(folder: ET.Element, mailbox: str) -> str:
    """A DistinguishedFolderId's name, or the name inside a FolderId our GetFolder gave."""
    return (folder.get("Id") or "").removeprefix(f"F-{mailbox}-")


def _parent_folders(request: ET.Element, mailbox: str) -> list[str]:
    parents = request.find(f"{{{M}}}ParentFolderIds")
    return [] if parents is None else [_folder_name(f, mailbox) for f in parents]


def _saved_folder(request: ET.Element, mailbox: str) -> str | None:
    saved = request.find(f"{{{M}}}SavedItemFolderId")
    return None if saved is None or not len(saved) else _folder_name(saved[0], mailbox)


# -- free/busy ---------------------------------------------------------------------------------

MAX_AVAILABILITY_MAILBOXES = 100  # GetUserAvailability operation, Remarks
MAX_AVAILABILITY_WINDOW = timedelta(days=42)  # TimeWindow, Remarks (ErrorTimeIntervalTooBig)

# GetServerTimeZones answers, full definitions in the form of the operation's example.
_TIME_ZONES = {
    "UTC": ("(UTC) Coordinated Universal Time", (
        '<t:Periods><t:Period Bias="PT0H" Name="Standard" Id="trule:Microsoft/Registry/UTC/1-Standard"/>'
        '</t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:Transition>'
        '<t:To Kind="Period">trule:Microsoft/Registry/UTC/1-Standard</t:To></t:Transition>'
        '</t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition>'
        '<t:To Kind="Group">0</t:To></t:Transition></t:Transitions>')),
    "FLE Standard Time": ("(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius", (
        '<t:Periods>'
        '<t:Period Bias="-PT2H" Name="Standard" Id="trule:Microsoft/Registry/FLE Standard Time/1-Standard"/>'
        '<t:Period Bias="-PT3H" Name="Daylight" Id="trule:Microsoft/Registry/FLE Standard Time/1-Daylight"/>'
        '</t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0">'
        '<t:RecurringDayTransition><t:To Kind="Period">trule:Microsoft/Registry/FLE Standard Time/1-Daylight'
        '</t:To><t:TimeOffset>PT3H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>'
        '<t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>'
        '<t:RecurringDayTransition><t:To Kind="Period">trule:Microsoft/Registry/FLE Standard Time/1-Standard'
        '</t:To><t:TimeOffset>PT4H</t:TimeOffset><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek>'
        '<t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>'
        '</t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition>'
        '<t:To Kind="Group">0</t:To></t:Transition></t:Transitions>')),
}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# MergedFreeBusy digits (MergedFreeBusy element), and which status wins a shared interval
_MERGED_DIGIT = {"Free": "0", "Tentative": "1", "Busy": "2", "OOF": "3", "WorkingElsewhere": "4",
                 "NoData": "5"}
_RANK = ("Free", "NoData", "WorkingElsewhere", "Tentative", "Busy", "OOF")


@dataclass(frozen=True)
class _Change:
    """A StandardTime or DaylightTime of an availability TimeZone."""

    bias: int  # minutes added to the base Bias
    time: str  # HH:MM:SS, local time before the change
    order: int  # the nth weekday of the month; 5 is the last
    month: int
    weekday: int  # 0 = Monday

    @classmethod
    def parse(cls, element: ET.Element | None) -> _Change | None:
        if element is None:
            return None
        return cls(int(_text(element, "Bias") or 0), _text(element, "Time") or "00:00:00",
                   int(_text(element, "DayOrder") or 1), int(_text(element, "Month") or 1),
                   _WEEKDAYS.index(_text(element, "DayOfWeek") or "Sunday"))

    def local(self, year: int) -> datetime:
        first = date(year, self.month, 1)
        day = first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.order - 1))
        while day.month != self.month:  # "5" means the last one
            day -= timedelta(days=7)
        return datetime.fromisoformat(f"{day.isoformat()}T{self.time}")  # wall clock, naive


@dataclass(frozen=True)
class _AvailabilityZone:
    """The TimeZone element of a GetUserAvailability request: UTC = local + Bias (+ the
    StandardTime or DaylightTime Bias), in minutes (TimeZone (Availability))."""

    bias: int
    standard: _Change | None
    daylight: _Change | None

    @classmethod
    def parse(cls, element: ET.Element | None) -> _AvailabilityZone:
        if element is None:
            return cls(0, None, None)
        return cls(int(_text(element, "Bias") or 0),
                   _Change.parse(element.find(f"{{{T}}}StandardTime")),
                   _Change.parse(element.find(f"{{{T}}}DaylightTime")))

    def offset(self, moment: datetime) -> timedelta:
        """Local time minus UTC at the aware ``moment``."""
        standard, daylight = self.standard, self.daylight
        if standard is None or daylight is None or standard.bias == daylight.bias:
            return -timedelta(minutes=self.bias + (standard.bias if standard else 0))
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        begins = daylight.local(naive.year) + timedelta(minutes=self.bias + standard.bias)
        ends = standard.local(naive.year) + timedelta(minutes=self.bias + daylight.bias)
        summer = begins <= naive < ends if begins < ends else not ends <= naive < begins
        return -timedelta(minutes=self.bias + (daylight.bias if summer else standard.bias))

    def to_utc(self, text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:  # local time of this zone
            moment = moment.replace(tzinfo=UTC)
            moment -= self.offset(moment)
        return moment.astimezone(UTC)

    def local(self, moment: datetime) -> str:
        return (moment.astimezone(UTC) + self.offset(moment)).strftime("%Y-%m-%dT%H:%M:%S")


def _free_busy_view(blocks: list[BusyBlock], view: str, zone: _AvailabilityZone,
                    start: datetime, end: datetime, interval: int) -> str:
    events = "".join(
        f"<t:CalendarEvent><t:StartTime>{zone.local(b.start)}</t:StartTime>"
        f"<t:EndTime>{zone.local(b.end)}</t:EndTime><t:BusyType>{b.busy_type}</t:BusyType>"
        "</t:CalendarEvent>" for b in blocks)
    merged = ""
    if view.endswith("Merged"):
        digits, step, moment = "", timedelta(minutes=interval), start
        while moment < end:
            overlapping = [b.busy_type for b in blocks if b.start < moment + step and b.end > moment]
            digits += _MERGED_DIGIT[max(overlapping, key=_RANK.index, default="Free")]
            moment += step
        merged = f"<t:MergedFreeBusy>{digits}</t:MergedFreeBusy>"
    return ('<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Success">'
            "<m:ResponseCode>NoError</m:ResponseCode></m:ResponseMessage><m:FreeBusyView>"
            f"<t:FreeBusyViewType>{view}</t:FreeBusyViewType>{merged}"
            f"<t:CalendarEventArray>{events}</t:CalendarEventArray>"
            "</m:FreeBusyView></m:FreeBusyResponse>")


def _free_busy_error(code: str, text: str) -> str:
    return ('<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Error">'
            f"<m:MessageText>{escape(text)}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>"
            "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResponseMessage>"
            "<m:FreeBusyView><t:FreeBusyViewType>None</t:FreeBusyViewType></m:FreeBusyView>"
            "</m:FreeBusyResponse>")


def _soap_fault(code: str, text: str) -> str:
    """A request-level error (HTTP 500), in the form of _server_busy."""
    return (f'<s:Fault><faultcode xmlns:a="{T}">a:{code}</faultcode>'
            f"<faultstring>{escape(text)}</faultstring><detail>"
            f'<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
            f"{code}</e:ResponseCode>"
            f'<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
            f"{escape(text)}</e:Message></detail></s:Fault>")


def _server_busy(back_off_ms: int) -> str:
    """The SOAP fault Exchange answers when a throttling budget is spent (HTTP 500)."""
    return ENVELOPE.format(
        f"<s:Fault><faultcode xmlns:a=\"{T}\">a:ErrorServerBusy</faultcode>"
        "<faultstring>The server cannot service this request right now. Try again later."
        "</faultstring><detail>"
        f'<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "ErrorServerBusy</e:ResponseCode>"
        '<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        "The server cannot service this request right now. Try again later.</e:Message>"
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}'
        "</t:Value></t:MessageXml></detail></s:Fault>")


def _handler(server: EwsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as IIS does; exchangelib reuses sessions

        def setup(self) -> None:
            super().setup()
            self.client = server.connection()  # one handler per TCP connection

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            if self.path == TOKEN_PATH:
                status, headers, text = server.handle_token(parse_qs(raw))
            elif self.path == EWS_PATH:
                status, headers, text = server.handle_ews(dict(self.headers.items()), raw,
                                                          self.client)
                if status == 0:  # a "drop" fault: close the connection, answer nothing
                    self.close_connection = True
                    return
                headers = {"Content-Type": "text/xml; charset=utf-8", **headers}
                if not server.keep_alive:
                    headers["Connection"] = "close"  # BaseHTTPRequestHandler closes it too
            else:
                status, headers, text = 404, {}, "not found"
            data = text.encode("utf-8")
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a timeout test); nothing to answer
                pass

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # quiet: pytest shows what matters

    return Handler
