"""A local Microsoft Graph v1.0 for the ``graph`` backend's tests and benchmark.

It owns only what the backend calls, in Graph's wire format: ``POST /users/{m}/events``
(honouring ``transactionId`` as Graph does: a second POST with it returns the first event),
``GET``/``PATCH /users/{m}/events/{id}``, ``POST .../events/{id}/cancel`` (202),
``POST /users/{m}/sendMail`` (202), ``GET /users/{m}/messages`` filtered on an extended
property (our outbox key on sent mail), ``POST /users/{m}/calendar/getSchedule`` (busy items
from the mailbox's events and from blocks a test adds, a per-schedule error object for an
unknown mailbox, 400 ErrorTimeIntervalTooBig beyond 62 days), and ``POST /$batch`` (JSON
batching: each inner request through the same routing, faults and throttle, four at a time,
the answers in a shuffled order). Every request is recorded (method, path, headers, JSON
body), an inner one with its batch id. Faults: a queue of scripted answers (a status with headers and error body, a delay,
and whether the request is applied first, as when a gateway times out after the mailbox
did the work), a bearer token check (401 InvalidAuthenticationToken), and a throttle mode
like Outlook's: at most ``concurrency`` requests in flight per mailbox and a request budget
per window, with 429 ApplicationThrottled + Retry-After beyond either (tech.md section 5).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

# The zones this fake accepts in dateTimeTimeZone: a Windows name, UTC, and Graph's
# "additional" IANA names it supports (Europe/Kiev, never Europe/Helsinki).
ZONES = {"FLE Standard Time": "Europe/Helsinki", "UTC": "UTC", "Europe/Kiev": "Europe/Kyiv"}


@dataclass
class Recorded:
    method: str
    path: str  # decoded, without the query
    query: str
    headers: dict[str, str]  # lower-case names; several Prefer headers joined with ", "
    body: Any
    mailbox: str
    status: int = 0
    batch_id: str | None = None  # the inner request's id when it came in a $batch


@dataclass
class Fault:
    """One scripted answer, used by the first request it matches."""

    status: int = 0  # 0: do the work and answer normally, after ``delay``
    headers: dict[str, str] = field(default_factory=dict)
    code: str = ""
    message: str = ""
    delay: float = 0.0  # seconds before answering
    apply: bool = False  # do the work first (the answer is lost or replaced)
    method: str | None = None  # match only this method
    endswith: str | None = None  # match only paths ending so


def error(code: str, message: str) -> dict[str, Any]:
    # Graph's error body: {"error": {"code", "message", "innerError": {...}}}
    return {"error": {"code": code, "message": message, "innerError": {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": "00000000-0000-0000-0000-000000000000",
        "client-request-id": "00000000-0000-0000-0000-000000000000"}}}


THROTTLED = ("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
# getSchedule (learn.microsoft.com/graph/outlook-get-free-busy-schedule, "Limits and error
# conditions"): 20 schedules a request, a window of at most 62 days; availabilityView digits.
MAX_SCHEDULES, MAX_SCHEDULE_DAYS = 20, 62
VIEW_DIGITS = {"free": 0, "workingElsewhere": 0, "tentative": 1, "busy": 2, "oof": 3}
# JSON batching (learn.microsoft.com/graph/json-batching): at most 20 requests a batch, and
# Graph hands Outlook "up to four individual requests from the batch at a time, regardless of
# the target mailboxes" (learn.microsoft.com/graph/throttling-limits, "Outlook service limits
# for JSON batching").
BATCH_PATH, MAX_BATCH, BATCH_PARALLEL = "/v1.0/$batch", 20, 4


class GraphServer:
    def __init__(self, *, token: str | None = None, concurrency: int | None = None,
                 budget: int | None = None, window: float = 600.0, latency: float = 0.0,
                 retry_after: int = 1) -> None:
        self.token = token  # when set, every request needs "Authorization: Bearer <token>"
        self.concurrency, self.budget, self.window = concurrency, budget, window
        self.latency, self.retry_after = latency, retry_after
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.events: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # mailbox -> id
        self.cancelled: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.transactions: dict[str, dict[str, str]] = defaultdict(dict)  # txid -> event id
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)  # sendMail messages
        self.blocks: dict[str, list[dict[str, Any]]] = defaultdict(list)  # extra busy items
        self.unknown: set[str] = set()  # mailboxes that do not exist in the tenant
        self.in_flight: dict[str, int] = defaultdict(int)
        self.peak: dict[str, int] = defaultdict(int)
        self.throttled = 0
        self.batches: list[list[str]] = []  # each $batch's inner ids, in the answer's order
        self._shuffle = random.Random(20)  # Graph does not keep the requests' order
        self._spent: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)  # a quick shutdown()

    # -- life and inspection ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1.0"

    def start(self) -> GraphServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def calls(self, method: str | None = None, endswith: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and r.path.endswith(endswith)]

    def respond(self, mailbox: str, event_id: str, address: str, response: str) -> None:
        """An attendee answers (what Exchange does when their reply reaches the organiser)."""
        with self._lock:
            for attendee in self.events[mailbox.lower()][event_id]["attendees"]:
                if attendee["emailAddress"]["address"].lower() == address.lower():
                    attendee["status"] = {"response": response,
                                          "time": datetime.now(UTC).strftime(
                                              "%Y-%m-%dT%H:%M:%SZ")}

    def add_busy(self, mailbox: str, start: datetime, end: datetime, status: str = "busy",
                 subject: str = "") -> None:
        """A busy block in the mailbox's calendar that getSchedule reports (an event of the
        person's own, a holiday marked out of office)."""
        with self._lock:
            self.blocks[mailbox.lower()].append({
                "status": status, "subject": subject,
                "start": {"dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                          "timeZone": "UTC"},
                "end": {"dateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                        "timeZone": "UTC"}})

    # -- one request -----------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: Any,
               batch_id: str | None = None) -> tuple[int, dict[str, str], Any, float]:
        """Returns (status, headers, JSON body or None, delay before answering)."""
        split = urlsplit(raw_path)
        path = unquote(split.path)
        parts = path.split("/")  # ['', 'v1.0', 'users', mailbox, ...]
        mailbox = parts[3].lower() if len(parts) > 3 and parts[2] == "users" else ""
        record = Recorded(method, path, split.query, headers, body, mailbox, batch_id=batch_id)
        with self._lock:
            self.requests.append(record)
            fault = next((f for f in self.faults
                          if (f.method is None or f.method == method)
                          and (f.endswith is None or path.endswith(f.endswith))), None)
            if fault is not None:
                self.faults.remove(fault)
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            record.status = 401
            return 401, {"WWW-Authenticate": 'Bearer realm=""'}, error(
                "InvalidAuthenticationToken", "Access token validation failure. Invalid "
                "audience."), 0.0
        if fault is not None and fault.status and not fault.apply:
            record.status = fault.status
            return fault.status, fault.headers, error(fault.code or str(fault.status),
                                                      fault.message), fault.delay
        if method == "POST" and path == BATCH_PATH and batch_id is None:
            # The envelope: no mailbox's request itself, so not throttled; its inner ones are.
            status, answer = self._batch(headers, body)
            record.status = fault.status if fault is not None and fault.status else status
            if fault is not None and fault.status:  # applied, then the scripted answer
                return fault.status, fault.headers, error(fault.code or str(fault.status),
                                                          fault.message), fault.delay
            return status, {}, answer, fault.delay if fault is not None else 0.0
        throttled = self._admit(mailbox)
        if throttled is not None:
            record.status = 429
            return 429, {"Retry-After": str(throttled)}, error(*THROTTLED), 0.0
        try:
            if self.latency:
                time.sleep(self.latency)  # the mailbox's work, holding its slot
            with self._lock:
                status, answer = self._route(method, parts, mailbox, headers, body, split.query)
        finally:
            with self._lock:
                self.in_flight[mailbox] -= 1  # before the answer: the client may go on at once
        if fault is not None:  # applied, then the scripted answer (or a late real one)
            record.status = fault.status or status
            if fault.status:
                return fault.status, fault.headers, error(fault.code or str(fault.status),
                                                          fault.message), fault.delay
            return status, {}, answer, fault.delay
        record.status = status
        return status, {}, answer, 0.0

    def _admit(self, mailbox: str) -> int | None:
        """None if the request may run (counted in flight), else the Retry-After to send."""
        with self._lock:
            now = time.monotonic()
            if self.budget is not None:
                spent = self._spent[mailbox] = [t for t in self._spent[mailbox]
                                                if now - t < self.window]
                if len(spent) >= self.budget:
                    self.throttled += 1
                    return max(1, int(self.window - (now - spent[0])) + 1)
                spent.append(now)
            if self.concurrency is not None and self.in_flight[mailbox] >= self.concurrency:
                self.throttled += 1
                return self.retry_after
            self.in_flight[mailbox] += 1
            self.peak[mailbox] = max(self.peak[mailbox], self.in_flight[mailbox])
            return None

    def _route(self, method: str, parts: list[str], mailbox: str, headers: dict[str, str],
               body: Any, query: str = "") -> tuple[int, Any]:
        tail = parts[4:]
        if not mailbox:
            return 400, error("BadRequest", "Resource not found for the segment.")
        if mailbox in self.unknown:
            return 404, error("ErrorInvalidUser", f"The requested user '{mailbox}' is invalid.")
        if method == "POST" and tail == ["calendar", "getSchedule"]:
            return self._schedule(mailbox, headers, body)
        if method == "GET" and tail == ["messages"]:
            return self._find_messages(mailbox, query)
        if method == "POST" and tail == ["sendMail"]:
            params = _parameters(body)
            if not (params.get("message") or {}).get("toRecipients"):
                return 400, error("ErrorInvalidRecipients",
                                  "At least one recipient is not valid.")
            self.sent[mailbox].append(params)
            return 202, None
        if tail[:1] != ["events"]:
            return 400, error("BadRequest", f"Resource not found for the segment '{tail[0]}'.")
        events = self.events[mailbox]
        if method == "POST" and len(tail) == 1:
            return self._create(mailbox, headers, body)
        event = events.get(tail[1]) if len(tail) > 1 else None
        if event is None:
            return 404, error("ErrorItemNotFound",
                              "The specified object was not found in the store.")
        if method == "GET" and len(tail) == 2:
            return 200, _selected(self._view(mailbox, event, headers), query)
        if method == "PATCH" and len(tail) == 2:
            problem = self._check_times(body)
            if problem:
                return 400, problem
            event.update({k: v for k, v in body.items() if not k.startswith("@")})
            if "attendees" in body:
                event["attendees"] = [_attendee(a) for a in body["attendees"]]
            event["changeKey"] = _digest(event["changeKey"])
            return 200, self._view(mailbox, event, headers)
        if method == "POST" and tail[2:] == ["cancel"]:
            event["isCancelled"] = True  # and into Deleted Items: gone from /events
            self.cancelled[mailbox][tail[1]] = {**events.pop(tail[1]),
                                                "cancelComment": _parameters(body).get("comment")}
            return 202, None
        return 405, error("BadRequest", "The request is not supported.")

    def _batch(self, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        """``POST /$batch``: ``{"requests": [{"id", "method", "url", "headers", "body"}]}``
        answered ``{"responses": [{"id", "status", "headers", "body"}]}``, 200 whatever the
        inner statuses; 400 for a batch that is not one (json-batching: "If the batch
        request itself is malformed, the status code is 400")."""
        requests = body.get("requests") if isinstance(body, dict) else None
        problem = _batch_problem(requests)
        if problem:
            return 400, error("BadRequest", problem)
        assert isinstance(requests, list)
        with ThreadPoolExecutor(BATCH_PARALLEL) as pool:
            answers = list(pool.map(lambda r: self._inner(r, headers), requests))
        with self._lock:
            # "Individual responses might appear in a different order than the requests."
            self._shuffle.shuffle(answers)
            self.batches.append([a["id"] for a in answers])
        return 200, {"responses": answers}

    def _inner(self, request: dict[str, Any], outer: dict[str, str]) -> dict[str, Any]:
        """One inner request through ``handle`` (routing, faults, throttle), authorised
        by the batch's own token as Graph does, with its headers and body as given."""
        headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
        if "authorization" in outer:
            headers["authorization"] = outer["authorization"]
        url = "/v1.0/" + str(request["url"]).lstrip("/")
        status, extra, answer, delay = self.handle(str(request["method"]).upper(), url,
                                                   headers, request.get("body"),
                                                   batch_id=str(request["id"]))
        if delay:
            time.sleep(delay)  # a slow inner request holds the whole batch's answer
        item: dict[str, Any] = {"id": request["id"], "status": status, "headers": dict(extra)}
        if answer is not None:
            item["headers"]["Content-Type"] = "application/json; odata.metadata=minimal"
            item["body"] = answer
        return item

    def _find_messages(self, mailbox: str, query: str) -> tuple[int, Any]:
        """``GET /users/{m}/messages?$filter=singleValueExtendedProperties/Any(ep: ep/id eq
        '<id>' and ep/value eq '<value>')``: the sent messages carrying that property (what
        sendMail with saveToSentItems left in Sent Items). Other filters are refused, as
        Graph refuses a filter it cannot run."""
        given = dict(parse_qsl(query))
        match = re.fullmatch(r"singleValueExtendedProperties/Any\(ep: ep/id eq '(.*?)' and "
                             r"ep/value eq '((?:[^']|'')*)'\)", given.get("$filter", ""))
        if match is None:
            return 400, error("ErrorInvalidUrlQueryFilter", "The query filter contains one or "
                              "more invalid nodes.")
        wanted = (match.group(1), match.group(2).replace("''", "'"))
        found = [{"id": f"AAMkAGsent{n}"} for n, sent in enumerate(self.sent[mailbox])
                 if any((p.get("id"), p.get("value")) == wanted
                        for p in sent["message"].get("singleValueExtendedProperties") or [])]
        return 200, {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('"
                                       f"{mailbox}')/messages(id)", "value": found[:1]}

    def _create(self, mailbox: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        problem = self._check_times(body)
        if problem:
            return 400, problem
        txid = body.get("transactionId")
        if txid and txid in self.transactions[mailbox]:
            # Graph: the transactionId "avoids redundant POST operations in case of client
            # retries" -- the existing event comes back.
            return 201, self._view(mailbox, self.events[mailbox][self.transactions[mailbox]
                                                                [txid]], headers)
        self._counter += 1
        event_id = "AAMkAG" + _digest(f"{mailbox}/{self._counter}")[:40] + "AAA="
        event = {k: v for k, v in body.items() if not k.startswith("@")}
        event.update({
            "id": event_id,
            "iCalUId": "040000008200E00074C5B7101A82E0080000000" + _digest(event_id)[:33].upper(),
            "changeKey": _digest(event_id)[:24],
            "createdDateTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "isCancelled": False, "isOrganizer": True,
            "organizer": {"emailAddress": {"name": mailbox, "address": mailbox}},
            "attendees": [_attendee(a) for a in body.get("attendees") or []],
        })
        self.events[mailbox][event_id] = event
        if txid:
            self.transactions[mailbox][txid] = event_id
        return 201, self._view(mailbox, event, headers)

    def _schedule(self, mailbox: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        """calendar: getSchedule (learn.microsoft.com/graph/api/calendar-getschedule)."""
        params = _parameters(body)
        problem = self._check_times({"start": params.get("startTime"),
                                     "end": params.get("endTime")})
        if problem:
            return 400, problem
        start, end = _instant(params["startTime"]), _instant(params["endTime"])
        schedules = params.get("schedules") or []
        days = -(-(end - start) // timedelta(days=1))
        if end - start > timedelta(days=MAX_SCHEDULE_DAYS):
            # Graph's own words (microsoft-graph-docs PR #19703, a 63-day request).
            return 400, error("ErrorTimeIntervalTooBig", "The requested time duration "
                              "specified for FreeBusyViewOptions.TimeWindow is too long. The "
                              f"allowed limit = {MAX_SCHEDULE_DAYS} days; the actual limit = "
                              f"{days} days.")
        interval = int(params.get("availabilityViewInterval") or 30)
        if not 5 <= interval <= 1440 or timedelta(minutes=interval) > end - start:
            return 400, error("ErrorInvalidMergedFreeBusyInterval", "The specified merged "
                              "free/busy interval is not valid. Specify an interval that is "
                              "less than the free/busy time window and  between 5 and 1440 "
                              "minutes.")
        if not schedules or len(schedules) > MAX_SCHEDULES:
            # The documented limit; Graph's code for it is not documented, this one is ours.
            return 400, error("ErrorInvalidRequest", f"getSchedule takes 1 to {MAX_SCHEDULES} "
                              f"schedules, got {len(schedules)}.")
        zone = _preferred_zone(headers)
        return 200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection("
                                       "microsoft.graph.scheduleInformation)",
                     "value": [self._schedule_of(s, start, end, interval, zone)
                               for s in schedules]}

    def _schedule_of(self, schedule: str, start: datetime, end: datetime, interval: int,
                     zone: str) -> dict[str, Any]:
        if schedule.lower() in self.unknown:
            # One schedule Graph cannot resolve: 200, and an error object in its place
            # (microsoft-graph-docs issue #11225 shows this answer verbatim).
            return {"scheduleId": schedule, "error": {
                "message": f"Unable to resolve e-mail address {schedule} to an Active "
                           "Directory object.", "responseCode": "5009"}}
        items = []
        for item in self._calendar_items(schedule.lower()):
            begin, finish = _instant(item["start"]), _instant(item["end"])
            if begin < end and start < finish:  # partly inside: reported whole
                items.append({**item, "start": _in_zone(begin, zone),
                              "end": _in_zone(finish, zone)})
        items.sort(key=lambda i: i["start"]["dateTime"])
        slots = -(-(end - start) // timedelta(minutes=interval))
        view = ""
        for n in range(slots):
            slot = start + n * timedelta(minutes=interval)
            view += str(max([VIEW_DIGITS.get(i["status"], 0) for i in items
                             if _instant(i["start"]) < slot + timedelta(minutes=interval)
                             and slot < _instant(i["end"])], default=0))
        return {"scheduleId": schedule, "availabilityView": view, "scheduleItems": items,
                "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday",
                                                "friday"],
                                 "startTime": "08:00:00.0000000", "endTime": "16:00:00.0000000",
                                 "timeZone": {"name": "FLE Standard Time"}}}

    def _calendar_items(self, mailbox: str) -> list[dict[str, Any]]:
        """The schedule items of a mailbox: its live events (showAs, default busy) and the
        blocks a test added."""
        items = [{"isPrivate": False, "status": event.get("showAs") or "busy",
                  "subject": event.get("subject", ""), "location": (event.get("location")
                                                                    or {}).get("displayName", ""),
                  "isMeeting": True, "isRecurring": False, "isException": False,
                  "isReminderSet": True, "start": event["start"], "end": event["end"]}
                 for event in self.events[mailbox].values() if "start" in event]
        return items + [{"isPrivate": False, "location": "", "isMeeting": False,
                         "isRecurring": False, "isException": False, "isReminderSet": False,
                         **block} for block in self.blocks[mailbox]]

    @staticmethod
    def _check_times(body: Any) -> dict[str, Any] | None:
        for name in ("start", "end"):
            zone = ((body or {}).get(name) or {}).get("timeZone")
            if zone is not None and zone not in ZONES:
                return error("TimeZoneNotSupportedException", "A valid TimeZone value must be "
                             f"specified. The following TimeZone value is not supported: "
                             f"'{zone}'.")
        return None

    @staticmethod
    def _view(mailbox: str, event: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """The event as Graph answers: times in the Prefer outlook.timezone, else UTC."""
        prefer = headers.get("prefer", "")
        zone = "UTC"
        if 'outlook.timezone="' in prefer:
            zone = prefer.split('outlook.timezone="', 1)[1].split('"', 1)[0]
        view = {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{mailbox}')"
                                  "/events/$entity",
                "@odata.etag": f'W/"{event["changeKey"]}"', **event}
        for name in ("start", "end"):
            if name in event and zone in ZONES and event[name].get("timeZone") in ZONES:
                wall = datetime.fromisoformat(event[name]["dateTime"][:19]).replace(
                    tzinfo=ZoneInfo(ZONES[event[name]["timeZone"]]))
                view[name] = {"dateTime": wall.astimezone(ZoneInfo(ZONES[zone])).strftime(
                    "%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone}
        return view


def _batch_problem(requests: Any) -> str:
    """Why a $batch body is refused as a whole, or "" if it is not. Graph answers these 400
    BadRequest; its message text for each is not documented, so ours names the rule."""
    if not isinstance(requests, list) or not requests:
        return "Invalid batch payload format: a non-empty 'requests' array is required."
    if len(requests) > MAX_BATCH:
        return (f"Invalid batch payload format: at most {MAX_BATCH} requests are allowed "
                f"in a batch, got {len(requests)}.")
    if not all(isinstance(r, dict) and r.get("id") and r.get("method") and r.get("url")
               for r in requests):
        return "Invalid batch payload format: each request needs an id, a method and a url."
    ids = [str(r["id"]).lower() for r in requests]  # "Not case-sensitive"
    if len(set(ids)) != len(ids):
        return "Invalid batch payload format: the request ids must be unique in the batch."
    return ""


def _selected(view: dict[str, Any], query: str) -> dict[str, Any]:
    """An entity with only the ``$select``ed properties (and its id and annotations, which
    Graph always returns), or whole when nothing is selected."""
    chosen = dict(parse_qsl(query)).get("$select")
    if not chosen:
        return view
    names = set(chosen.split(",")) | {"id"}
    return {k: v for k, v in view.items() if k in names or k.startswith("@odata.")}


def _instant(value: dict[str, str]) -> datetime:
    """A dateTimeTimeZone as an aware datetime (seven fractional digits are fine)."""
    wall = datetime.fromisoformat(value["dateTime"][:19])
    return wall.replace(tzinfo=ZoneInfo(ZONES[value["timeZone"]]))


def _in_zone(moment: datetime, zone: str) -> dict[str, str]:
    return {"dateTime": moment.astimezone(ZoneInfo(ZONES.get(zone, "UTC"))).strftime(
        "%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone if zone in ZONES else "UTC"}


def _preferred_zone(headers: dict[str, str]) -> str:
    prefer = headers.get("prefer", "")
    if 'outlook.timezone="' in prefer:
        return prefer.split('outlook.timezone="', 1)[1].split('"', 1)[0]
    return "UTC"


def _parameters(body: Any) -> dict[str, Any]:
    """An action's parameters by their documented camelCase names. Graph matches action
    parameter names without regard to case, and msgraph-sdk 1.65 sends them PascalCase
    ("Message", "SaveToSentItems", "Comment") as its metadata spells them."""
    return {key[:1].lower() + key[1:]: value for key, value in (body or {}).items()}


def _attendee(given: dict[str, Any]) -> dict[str, Any]:
    return {"type": given.get("type", "required"),
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": given.get("emailAddress", {})}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections under the benchmark's load


def _handler(server: GraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's httpx pool expects
        # Headers and body in one segment, sent at once: otherwise Nagle and the client's
        # delayed ACK add ~40 ms to every answer.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            status, extra, answer, delay = server.handle(self.command, self.path, headers, body)
            if delay:
                time.sleep(delay)
            data = b"" if answer is None else json.dumps(answer).encode()
            with contextlib.suppress(OSError):  # the client may have given up (a timeout)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if answer is not None:
                    self.send_header("Content-Type", "application/json; odata.metadata=minimal")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running(**options: Any) -> Iterator[GraphServer]:
    server = GraphServer(**options).start()
    try:
        yield server
    finally:
        server.stop()
