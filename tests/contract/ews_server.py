"""A small Exchange Web Services peer for the ``ews`` backend's contract tests.

A threaded HTTP server on 127.0.0.1 (a free port) that answers the SOAP operations
exchangelib 5.6 sends for our calls: GetFolder (``account.calendar`` / ``account.sent``),
CreateItem (a CalendarItem, a Message with SendAndSaveCopy, a CancelCalendarItem),
GetItem and UpdateItem; and an OAuth2 token endpoint (client credentials), so the real
token request runs too. Calendar items are kept in memory per mailbox with their attendees
and UID. Every request is recorded with its headers and parsed XML, and faults can be
scripted: ErrorServerBusy with BackOffMilliseconds, HTTP 503, HTTP 401, a slow answer.
It is a test double for the parts we use, not an Exchange emulator (tech.md section 3).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, Self
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

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

FaultKind = Literal["busy", "503", "401", "delay"]


@dataclass
class Fault:
    """One scripted failure, used for the next ``times`` EWS requests (``operation`` limits
    it to one SOAP operation). ``delay`` sleeps before answering normally."""

    kind: FaultKind
    times: int = 1
    back_off_ms: int = 50
    delay: float = 0.0
    operation: str | None = None


@dataclass
class Recorded:
    """One EWS request as it arrived."""

    operation: str  # the first element of the SOAP body: CreateItem, GetItem, ...
    headers: dict[str, str]
    body: str
    root: ET.Element

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


@dataclass
class SentMessage:
    """What the mailbox sent: a Message, an invitation, an update or a cancellation."""

    mailbox: str
    kind: Literal["message", "invitation", "update", "cancellation"]
    subject: str
    body: str
    body_type: str
    to: list[tuple[str, str]]  # (address, name)


class EwsServer:
    """The peer itself; ``start()``/``stop()``, or use as a context manager."""

    def __init__(self, *, token: str = "test-access-token", client_secret: str | None = None,
                 authorization: str | None = None) -> None:
        self.token = token  # what the token endpoint issues
        self.client_secret = client_secret  # None: any secret gets a token
        self.authorization = authorization  # the Authorization header EWS expects; None: any
        self.requests: list[Recorded] = []
        self.token_requests: list[dict[str, list[str]]] = []
        self.items: dict[str, StoredItem] = {}  # by ItemId
        self.sent: list[SentMessage] = []
        self.faults: list[Fault] = []
        self.invalid_recipients: set[str] = set()
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
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests read and set -------------------------------------------------------------

    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    def calendar(self, mailbox: str) -> list[StoredItem]:
        return [i for i in self.items.values() if i.mailbox == mailbox.lower()]

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
                    fault.times -= 1
                    return fault
        return None

    def handle_ews(self, headers: dict[str, str], body: str) -> tuple[int, dict[str, str], str]:
        root = ET.fromstring(body)
        soap_body = root.find(f"{{{S}}}Body")
        assert soap_body is not None and len(soap_body), "a SOAP request without a body"
        operation = soap_body[0].tag.split("}")[1]
        with self._lock:
            self.requests.append(Recorded(operation, headers, body, root))
        fault = self._fault_for(operation)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay)
        elif fault is not None and fault.kind == "busy":
            return 500, {}, _server_busy(fault.back_off_ms)
        elif fault is not None and fault.kind == "503":
            return 503, {}, "Service Unavailable"
        if (fault is not None and fault.kind == "401") or (
                self.authorization is not None and headers.get("Authorization") != self.authorization):
            return 401, {"WWW-Authenticate": 'Basic realm="ews"'}, ""
        # Whose mailbox: the impersonated one, else the one named in the request (a delegate
        # with FullAccess), else the signed-in user's own (Basic only; enough for these tests).
        mailbox = (_find(root, "ExchangeImpersonation", "PrimarySmtpAddress")
                   or headers.get("X-AnchorMailbox", "")
                   or _find(root, "DistinguishedFolderId", "EmailAddress")
                   or _basic_user(headers.get("Authorization", ""))).lower()
        request = soap_body[0]
        with self._lock:
            answer = getattr(self, f"_{operation}")(mailbox, request)
        return 200, {}, ENVELOPE.format(answer)

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
                messages += self._send_message(mailbox, element, request.get("MessageDisposition"))
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

    def _send_message(self, mailbox: str, element: ET.Element, disposition: str | None) -> str:
        body = element.find(f"{{{T}}}Body")
        to = [(_text(m, "EmailAddress"), _text(m, "Name"))
              for m in element.iterfind(f"{{{T}}}ToRecipients/{{{T}}}Mailbox")]
        refused = [address for address, _ in to if address in self.invalid_recipients]
        if refused:
            return _error("CreateItem", "ErrorInvalidRecipients",
                          f"At least one recipient isn't valid: {refused[0]}")
        if disposition == "SaveOnly":
            return _error("CreateItem", "ErrorInvalidRequest", "drafts are not served")
        self.sent.append(SentMessage(
            mailbox, "message", _text(element, "Subject"), "" if body is None else body.text or "",
            "Text" if body is None else body.get("BodyType", "Text"), to))
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

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            if self.path == TOKEN_PATH:
                status, headers, text = server.handle_token(parse_qs(raw))
            elif self.path == EWS_PATH:
                status, headers, text = server.handle_ews(dict(self.headers.items()), raw)
                headers = {"Content-Type": "text/xml; charset=utf-8", **headers}
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
