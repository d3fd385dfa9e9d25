"""The attendees' answers to many meetings at once, read in JSON ``$batch`` requests
(learn.microsoft.com/graph/json-batching): packing the GETs into batches within Graph's and
our per-mailbox limits, asking throttled inner requests again (kiota retries only the outer
request), and reading the batch answer with our own parsables.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.serialization import ParsableFactory, ParseNode
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.events.item.event_item_request_builder import (
    EventItemRequestBuilder,
)
from msgraph.graph_service_client import GraphServiceClient

# msgraph_core ships no py.typed; only these names are used from it.
from msgraph_core.requests.batch_request_content import (  # type: ignore[import-untyped]
    BatchRequestContent,
)
from msgraph_core.requests.batch_request_item import (  # type: ignore[import-untyped]
    BatchRequestItem,
)

from scheduler.delivery.ports import (
    Answers,
    DeliveryError,
    DeliveryRejected,
    DeliveryUnavailable,
    Person,
)

from .failures import MAX_WAIT, retry_after
from .session import GraphSession
from .wire import RESPONSES, Answer, event_item, request_config

log = logging.getLogger(__name__)

# JSON batching (learn.microsoft.com/graph/json-batching): at most 20 requests in a batch.
MAX_BATCH = 20
# Graph hands Outlook "up to four individual requests from the batch at a time, regardless of
# the target mailboxes" (learn.microsoft.com/graph/throttling-limits, "Outlook service limits
# for JSON batching"), so one batch never uses more than four of a mailbox's concurrency.
BATCH_PARALLEL = 4
# Inner answers that a later batch asks again: the throttle (429) and a busy or timed-out
# backend (503, 504). Safe, as every inner request of ours is a GET. kiota's RetryHandler
# sees only the outer 200 and never retries an inner item (tech.md 4).
RETRIED_INNER = frozenset({429, 503, 504})


def read_answers(session: GraphSession, events: Sequence[tuple[str, Person]]
                 ) -> dict[str, Answers | DeliveryError]:
    """Event id -> attendee address -> answer, or that meeting's own DeliveryRejected /
    DeliveryUnavailable.

    The GETs go in JSON ``$batch`` requests of at most 20. An inner 429, 503 or 504 is
    asked again in a later batch after the largest inner Retry-After (up to
    ``max_retries`` more rounds; a Retry-After beyond ``MAX_WAIT`` fails that meeting at
    once, as elsewhere here). Any other inner error fails its meeting only. A batch
    that fails as a whole (after kiota's own retries of the outer POST, safe as it holds
    only GETs) fails every meeting not yet answered, and no further batch is sent."""
    mailboxes = {remote_id: organizer.email for remote_id, organizer in events}
    results: dict[str, Answers | DeliveryError] = {}
    pending: dict[str, str] = dict.fromkeys(mailboxes, "")  # id -> why it is asked again
    wait = 0.0
    rounds = session.retry.max_retry + 1
    for attempt in range(rounds):
        if not pending:
            break
        if wait:
            log.debug("graph $batch: %d inner requests throttled, waiting %.1f s",
                      len(pending), wait)
            time.sleep(wait)
        pending, wait = _round(session, list(pending), mailboxes, results, attempt)
    for remote_id, why in pending.items():
        results[remote_id] = DeliveryUnavailable(
            f"{why}; still throttled after {rounds} $batch rounds")
    return results


def _round(session: GraphSession, pending: list[str], mailboxes: dict[str, str],
           results: dict[str, Answers | DeliveryError], attempt: int,
           ) -> tuple[dict[str, str], float]:
    """Ask ``pending`` once, in as few batches as the limits allow; returns the ids to
    ask again (with why) and how long to wait first."""
    again: dict[str, str] = {}
    wait = 0.0
    for batch in _pack(pending, mailboxes, _per_mailbox(session.max_in_flight)):
        try:
            answers = _post(session, batch, mailboxes)
        except (DeliveryRejected, DeliveryUnavailable) as failure:
            for remote_id in pending:
                results.setdefault(remote_id, failure)
            return {}, 0.0
        for remote_id in batch:
            verdict = _verdict(answers.get(remote_id), mailboxes[remote_id], session.who)
            if not isinstance(verdict, _Again):
                results[remote_id] = verdict
                continue
            delay = verdict.retry_after
            if delay is None:  # kiota's own back-off for a 503 without Retry-After
                delay = session.backoff(attempt)
            if delay > MAX_WAIT:
                results[remote_id] = DeliveryUnavailable(
                    f"{verdict.why}; Retry-After {delay:.0f} s is beyond {MAX_WAIT:.0f} s")
                continue
            again[remote_id] = verdict.why
            wait = max(wait, delay)
    return again, wait


def _per_mailbox(max_in_flight: int) -> int:
    """How many requests for one mailbox a batch may hold: any number while Graph's
    four at a time fit in ``max_in_flight``, else ``max_in_flight``."""
    return MAX_BATCH if max_in_flight >= BATCH_PARALLEL else max_in_flight


def _pack(pending: list[str], mailboxes: dict[str, str], per_mailbox: int) -> list[list[str]]:
    """Event ids into batches of at most ``MAX_BATCH``, with at most ``per_mailbox`` of one
    mailbox in a batch, first fit, in the order given."""
    batches: list[tuple[list[str], Counter[str]]] = []
    for remote_id in pending:
        mailbox = mailboxes[remote_id].lower()
        for batch, counts in batches:
            if len(batch) < MAX_BATCH and counts[mailbox] < per_mailbox:
                break
        else:
            batch, counts = [], Counter()
            batches.append((batch, counts))
        batch.append(remote_id)
        counts[mailbox] += 1
    return [batch for batch, _ in batches]


def _post(session: GraphSession, batch: list[str], mailboxes: dict[str, str]
          ) -> dict[str, _InnerAnswer]:
    """One ``POST /$batch`` of GET attendees for ``batch`` (event ids), holding the
    mailboxes' slots: of each as many as Graph may run at once (its requests there, at most
    four). The answers by event id, whatever order Graph gave them in."""
    ids = {str(n): remote_id for n, remote_id in enumerate(batch, 1)}
    counts = Counter(mailboxes[remote_id].lower() for remote_id in batch)
    slots = {mailbox: min(n, BATCH_PARALLEL, session.max_in_flight)
             for mailbox, n in counts.items()}

    async def call(client: GraphServiceClient) -> _BatchAnswer | None:
        content = BatchRequestContent()
        for request_id, remote_id in ids.items():
            info = event_item(client, mailboxes[remote_id], remote_id
                              ).to_get_request_information(_attendees_config())
            # add_request_information(request_id=...) ignores the id (tech.md 0.2).
            content.add_request(None, BatchRequestItem(info, id=request_id))
        info = await client.batch.to_post_request_information(content)
        # Not client.batch.post: its BatchResponseItem drops every JSON object body
        # (kiota-python issue 737), so the answer is read by our own _BatchAnswer.
        error_mapping: dict[str, type[ParsableFactory[Any]]] = {"XXX": ODataError}
        return await client.request_adapter.send_async(info, _BatchAnswer, error_mapping)

    got = session.run_holding(slots, "read responses ($batch)", call)
    return {ids[a.id]: a for a in (got.responses if got else []) if a.id in ids}


def _attendees_config() -> RequestConfiguration[Any]:
    """GET an event's attendees only, with the Prefer headers of every other call."""
    config = request_config()
    config.query_parameters = EventItemRequestBuilder.EventItemRequestBuilderGetQueryParameters(
        select=["attendees"])
    return config


class _Again(NamedTuple):
    """An inner answer to ask again: its Retry-After (None if it gave none) and the words
    to fail it with if it never gets through."""

    retry_after: float | None
    why: str


def _verdict(answer: _InnerAnswer | None, mailbox: str, who: str
             ) -> dict[str, str] | DeliveryRejected | DeliveryUnavailable | _Again:
    """One inner answer as the meeting's answers, its failure, or a reason to ask again;
    Graph's error words as ``failures.failure`` gives them for a single call."""
    where = f"graph read responses for {mailbox}"
    if answer is None:
        return DeliveryUnavailable(f"{where}: no answer to it in the $batch response")
    status = answer.status or 0
    if 200 <= status < 300:
        return _answers(answer.body)
    text = f"{where}: {status} {answer.error_text()}"
    if status in RETRIED_INNER:
        return _Again(retry_after(answer.headers), text)
    if status == 401:
        return DeliveryRejected(f"{text} ({who})")
    if status >= 500:
        return DeliveryUnavailable(text)
    return DeliveryRejected(text)


def _answers(body: _InnerBody | None) -> dict[str, str]:
    """Attendee address -> answer, in our words (RESPONSES), as ``responses`` gives them."""
    answers: dict[str, str] = {}
    for attendee in body.attendees if body is not None else []:
        if attendee.address:
            answers[attendee.address.lower()] = RESPONSES.get(attendee.response or "none",
                                                              "none")
    return answers


def _text(node: ParseNode, *path: str) -> str | None:
    """The string at ``path`` below ``node``, None where any step is missing."""
    for name in path:
        child = node.get_child_node(name)
        if child is None:
            return None
        node = child
    return node.get_str_value()


class _BatchAnswer(Answer):
    """Graph's JSON batch response: ``{"responses": [{"id", "status", "headers", "body"}]}``
    (learn.microsoft.com/graph/json-batching), in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[_InnerAnswer] = []

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _BatchAnswer:
        return _BatchAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"responses": lambda n: setattr(
            self, "responses", n.get_collection_of_object_values(_InnerAnswer) or [])}


class _InnerAnswer(Answer):
    def __init__(self) -> None:
        super().__init__()
        self.id: str | None = None
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body: _InnerBody | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _InnerAnswer:
        return _InnerAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"id": lambda n: setattr(self, "id", n.get_str_value()),
                "status": lambda n: setattr(self, "status", n.get_int_value()),
                "headers": lambda n: setattr(self, "headers", {
                    k: str(v) for k, v in n.get_object_value(_Headers).additional_data.items()}),
                "body": lambda n: setattr(self, "body", n.get_object_value(_InnerBody))}

    def error_text(self) -> str:
        """Graph's error code and message, as ``failures.graph_error`` gives them."""
        error = self.body.error if self.body is not None else ("", "")
        return f"{error[0]}: {error[1]}".strip(": ") or "no error body"


class _Headers(Answer):
    """An inner answer's headers: a JSON object of names and values, all kept."""

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _Headers:
        return _Headers()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {}


class _InnerBody(Answer):
    """An inner answer's body: an event's attendees, or Graph's error object."""

    def __init__(self) -> None:
        super().__init__()
        self.attendees: list[_AttendeeAnswer] = []
        self.error: tuple[str, str] = ("", "")

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _InnerBody:
        return _InnerBody()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"attendees": lambda n: setattr(
                    self, "attendees", n.get_collection_of_object_values(_AttendeeAnswer) or []),
                "error": lambda n: setattr(self, "error", (_text(n, "code") or "",
                                                           _text(n, "message") or ""))}


class _AttendeeAnswer(Answer):
    def __init__(self) -> None:
        super().__init__()
        self.address: str | None = None
        self.response: str | None = None

    @staticmethod
    def create_from_discriminator_value(parse_node: ParseNode) -> _AttendeeAnswer:
        return _AttendeeAnswer()

    def get_field_deserializers(self) -> dict[str, Callable[[ParseNode], None]]:
        return {"emailAddress": lambda n: setattr(self, "address", _text(n, "address")),
                "status": lambda n: setattr(self, "response", _text(n, "response"))}
