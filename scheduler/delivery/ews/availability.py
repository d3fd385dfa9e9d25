"""The conveners' busy times through GetUserAvailability: asked acting as one mailbox, in
windows and groups of mailboxes within the server's limits, with times in UTC, and refused
whole when a mailbox cannot be answered for (a missing calendar would read as a free one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from exchangelib import EWSDateTime  # type: ignore[import-untyped]
from exchangelib import errors as ews_errors
from exchangelib.ewsdatetime import UTC as EWS_UTC  # type: ignore[import-untyped]
from exchangelib.properties import (  # type: ignore[import-untyped]
    FreeBusyViewOptions,
    MailboxData,
    TimeWindow,
    TimeZone,
)
from exchangelib.services import (  # type: ignore[import-untyped]
    GetServerTimeZones,
    GetUserAvailability,
)

from scheduler.delivery.exchange import chunks, windows
from scheduler.delivery.ports import DeliveryRejected, DeliveryUnavailable

from .faults import TRANSIENT

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


def busy_times(protocol: Any, identity: Any, mailboxes: list[str], start: datetime,
               end: datetime) -> dict[str, list[tuple[datetime, datetime]]]:
    """Busy blocks (BUSY_TYPES) per mailbox of ``mailboxes`` (distinct, at least one), as
    aware UTC datetimes, merged where they overlap; asked through ``protocol`` acting as
    ``identity`` (None: as the credentials themselves). A mailbox answered with an error
    fails the whole answer (``_unanswered``)."""
    busy: dict[str, list[tuple[datetime, datetime]]] = {m: [] for m in mailboxes}
    zone = _utc_zone(protocol, identity, start.year)
    for window in windows(start, end, MAX_WINDOW):
        unanswered: dict[str, Exception] = {}
        for chunk in chunks(mailboxes, MAX_MAILBOXES):
            views = _ask(protocol, identity, zone, chunk, window)
            for mailbox, view in zip(chunk, views, strict=True):
                blocks = _busy_blocks(view)
                if isinstance(blocks, Exception):
                    unanswered[mailbox] = blocks
                else:
                    busy[mailbox] += blocks
        if unanswered:
            raise _unanswered(unanswered)
    return {mailbox: _merge(blocks) for mailbox, blocks in busy.items()}


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
    if any(isinstance(exc, TRANSIENT) for exc in problems.values()):
        return DeliveryUnavailable(f"ews: free/busy was not answered for {words}")
    return DeliveryRejected(f"ews: the server cannot tell free/busy for {words}")
