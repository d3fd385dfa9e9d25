"""The conveners' busy times through getSchedule (learn.microsoft.com/graph/api/
calendar-getschedule), asked in as many requests as Graph's limits need, with a mailbox Graph
cannot read left out of the answer and named in a warning, never reported free.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.schedule_information import ScheduleInformation
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
    GetSchedulePostRequestBody,
)
from msgraph.graph_service_client import GraphServiceClient

from scheduler.delivery.exchange import chunks, windows
from scheduler.delivery.ports import DeliveryRejected

from .failures import graph_error
from .session import Call, GraphSession
from .wire import HELSINKI, WINDOWS_ZONE

log = logging.getLogger(__name__)

# getSchedule's limits (learn.microsoft.com/graph/outlook-get-free-busy-schedule, "Limits and
# error conditions"): up to 20 schedules a request, and a time window "less than 62 days"
# (beyond it Graph answers 400 ErrorTimeIntervalTooBig, "The allowed limit = 62 days").
MAX_SCHEDULES = 20
MAX_SCHEDULE_WINDOW = timedelta(days=61)
# Graph refuses an availabilityViewInterval under 5 minutes or longer than the window, so no
# window is shorter than that.
MIN_SCHEDULE_WINDOW = timedelta(minutes=5)
# Which free/busy statuses keep a convener from a meeting. busy and oof (out of office) are
# plain; tentative too, because it is a meeting not yet declined or a hold the person placed,
# which Outlook's scheduling assistant shows as a conflict, and the convener's absence would
# cost a statutory meeting. workingElsewhere is a working person, only not at the office
# (Graph v1.0's availabilityView even reports it as 0, free); free and unknown are free.
BUSY_STATUSES = frozenset({"busy", "oof", "tentative"})


def free_busy(session: GraphSession, mailboxes: list[str], start: datetime, end: datetime
              ) -> dict[str, list[tuple[datetime, datetime]]]:
    """Busy, tentative and out-of-office intervals (aware, UTC) per mailbox. A mailbox Graph
    cannot read (unknown, outside the app's access policy) is logged as a warning and left
    out of the answer; when none can be read, DeliveryRejected names them all."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("free_busy needs aware start and end times")
    wanted = list(dict.fromkeys(mailboxes))
    busy: dict[str, set[tuple[datetime, datetime]]] = {m: set() for m in wanted}
    refused: dict[str, str] = {}
    for begin, finish in windows(start, end, MAX_SCHEDULE_WINDOW, shortest=MIN_SCHEDULE_WINDOW):
        for chunk in chunks(wanted, MAX_SCHEDULES):
            group = [m for m in chunk if m not in refused]
            _read_schedules(session, group, begin, finish, busy, refused)
    if wanted and len(refused) == len(wanted):
        raise DeliveryRejected("graph getSchedule: no calendar could be read: " + "; ".join(
            f"{mailbox}: {why}" for mailbox, why in refused.items()))
    for mailbox, why in refused.items():
        log.warning("graph getSchedule: the calendar of %s could not be read (%s); "
                    "its busy times are not known", mailbox, why)
    return {m: sorted(found) for m, found in busy.items() if m not in refused}


def _read_schedules(session: GraphSession, group: list[str], begin: datetime, finish: datetime,
                    busy: dict[str, set[tuple[datetime, datetime]]],
                    refused: dict[str, str]) -> None:
    """One getSchedule for ``group`` over one window, asked through the first mailbox's
    own calendar; if Graph refuses that mailbox itself (404 unknown user, 403 outside
    the app's access policy), it is set aside and the rest asked through the next."""
    while group:
        caller = group[0]
        answer = session.run(caller, "getSchedule", f"{begin:%Y-%m-%d}..{finish:%Y-%m-%d}",
                             _get_schedule(session, caller, group, begin, finish),
                             idempotent=True)  # a read: kiota's retries are safe
        if isinstance(answer, str):
            refused[caller] = answer
            group = group[1:]
            continue
        by_id = {(info.schedule_id or "").lower(): info for info in answer}
        for mailbox in group:
            info = by_id.get(mailbox.lower())
            if info is None:
                refused[mailbox] = "no schedule in Graph's answer"
            elif info.error is not None:
                # Graph answers 200 with an error object per schedule it cannot read
                # ("Unable to resolve e-mail address ...", responseCode 5009).
                refused[mailbox] = (f"{info.error.response_code or ''} "
                                    f"{info.error.message or ''}").strip()
            else:
                busy[mailbox].update(_busy_items(info))
        return


def _get_schedule(session: GraphSession, caller: str, group: list[str], begin: datetime,
                  finish: datetime) -> Call[list[ScheduleInformation] | str]:
    body = GetSchedulePostRequestBody(
        schedules=list(group), start_time=_utc(begin), end_time=_utc(finish),
        availability_view_interval=_view_interval(finish - begin))
    config: RequestConfiguration[Any] = RequestConfiguration(options=[session.retry])
    # Answers in UTC (the default, asked for anyway): no zone name to translate back.
    config.headers.add("Prefer", 'outlook.timezone="UTC"')

    async def call(client: GraphServiceClient) -> list[ScheduleInformation] | str:
        try:
            got = await client.users.by_user_id(caller).calendar.get_schedule.post(
                body, request_configuration=config)
        except APIError as exc:
            if exc.response_status_code in (403, 404):
                return f"{exc.response_status_code} {graph_error(exc)}"
            raise
        return list((got.value if got else None) or [])

    return call


def _view_interval(length: timedelta) -> int:
    """availabilityViewInterval in minutes: 5..1440 and not above the window. The view
    itself is not read (scheduleItems carry the times); a long slot keeps it short."""
    return max(5, min(1440, int(length.total_seconds() // 60)))


def _utc(moment: datetime) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                            time_zone="UTC")


def _busy_items(info: ScheduleInformation) -> set[tuple[datetime, datetime]]:
    found: set[tuple[datetime, datetime]] = set()
    for item in info.schedule_items or []:
        status = str(item.status.value) if item.status is not None else "unknown"
        if status.lower() in BUSY_STATUSES:
            found.add((_instant(item.start, info), _instant(item.end, info)))
    return found


def _instant(moment: DateTimeTimeZone | None, info: ScheduleInformation) -> datetime:
    """A schedule item's time as an aware UTC datetime. Graph writes seven fractional
    digits ("2027-03-02T08:00:00.0000000"), which Python 3.11's fromisoformat reads."""
    zones = {"UTC": UTC, WINDOWS_ZONE: HELSINKI}
    zone = zones.get(moment.time_zone or "") if moment is not None else None
    try:
        if moment is None or zone is None or not moment.date_time:
            raise ValueError(moment.time_zone if moment is not None else "no time")
        return datetime.fromisoformat(moment.date_time).replace(tzinfo=zone).astimezone(UTC)
    except ValueError as exc:
        raise DeliveryRejected(f"graph getSchedule: a schedule item of {info.schedule_id} "
                               f"has a time we cannot read ({exc})") from None
