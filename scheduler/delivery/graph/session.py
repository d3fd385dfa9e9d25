"""How a mailer's calls reach Graph: one private event loop in a daemon thread (the SDK is
async; the pipeline's threads call synchronously), one GraphServiceClient with its own
connection pool per mailbox, at most ``max_in_flight`` requests per mailbox in flight
(Outlook's 4 concurrent requests per app and mailbox, tech.md section 5), a 429 asked again
after its Retry-After where kiota's retries are off, and every failure turned into
DeliveryRejected or DeliveryUnavailable (``failures``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import httpx
from azure.core.exceptions import AzureError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.request_option import RequestOption
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

# msgraph_core ships no py.typed; only these names are used from it.
from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]
from msgraph_core.authentication import (  # type: ignore[import-untyped]
    AzureIdentityAuthenticationProvider,
)

from scheduler.delivery.ports import DeliveryRejected, DeliveryUnavailable

from .auth import TokenCredential, authentication
from .failures import MAX_WAIT, failure, retry_after
from .wire import request_config

log = logging.getLogger(__name__)

T = TypeVar("T")
Call = Callable[[GraphServiceClient], Coroutine[Any, Any, T]]  # one SDK call, on the loop

# What a call can fail with that is Graph's or the network's; anything else is a bug.
_FAILURES = (APIError, httpx.HTTPError, AzureError)
# Batches span mailboxes, so they have a connection pool of their own.
_BATCH_POOL = "$batch"
# Taking several slots at once is done by one thread at a time: two batches each holding part
# of a mailbox's slots and waiting for the rest would wait for ever.
_BATCH_ACQUIRE = threading.Lock()


class GraphSession:
    """The loop, the clients and the mailbox slots of one mailer, made on first use and
    released by ``close``. ``who`` names the tenant and client in a refused login."""

    def __init__(self, *, base_url: str, timeout: float, max_in_flight: int,
                 retry: RetryHandlerOption, who: str, credential: TokenCredential | None,
                 sign_in: Callable[[], TokenCredential]) -> None:
        self.base_url, self.timeout, self.max_in_flight = base_url, timeout, max_in_flight
        # kiota's policy for every call but sendMail: retries after the first attempt, and
        # a base delay used when a 503/504 carries no Retry-After (tech.md 4).
        self.retry, self.who = retry, who
        self._credential, self._sign_in = credential, sign_in
        self._owned: object = None  # a credential we built, and so close
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._auth: AzureIdentityAuthenticationProvider | None = None
        self._clients: dict[str, GraphServiceClient] = {}
        self._https: list[httpx.AsyncClient] = []

    def config(self, *options: RequestOption) -> RequestConfiguration[Any]:
        """Our Prefer headers and ``options``, by default the retry policy."""
        return request_config(*(options or (self.retry,)))

    def backoff(self, attempt: int) -> float:
        """kiota's own wait before ``attempt`` + 2 when the answer named none."""
        return float(self.retry.max_delay + 0.5 * 2 ** attempt)

    def throttled(self, call: Call[T]) -> Call[T]:
        """``call`` again after a 429, honouring Retry-After up to ``MAX_WAIT`` and
        ``max_retries`` times: used where kiota's retries are off (sendMail)."""

        async def again(client: GraphServiceClient) -> T:
            for attempt in range(self.retry.max_retry + 1):
                try:
                    return await call(client)
                except APIError as exc:
                    if exc.response_status_code != 429 or attempt == self.retry.max_retry:
                        raise
                    wait = retry_after(exc.response_headers)
                    if wait is None:
                        wait = self.backoff(attempt)
                    if wait > MAX_WAIT:
                        raise
                    log.debug("graph: 429, waiting %.1f s before attempt %d", wait, attempt + 2)
                    await asyncio.sleep(wait)
            raise AssertionError("unreachable")

        return again

    def run(self, mailbox: str, what: str, key: str, call: Call[T], *, idempotent: bool) -> T:
        """Run ``call`` on the private loop, holding one of the mailbox's slots, and turn
        every failure into DeliveryRejected or DeliveryUnavailable."""
        with self._slot(mailbox):
            try:
                return self._on_loop(mailbox, call)
            except _FAILURES as exc:
                lost = self._failed(exc, f"graph {what} for {mailbox}", idempotent=idempotent)
                log.debug("graph: %s for %s failed (key %s)", what, mailbox, key)
                raise lost from None

    def run_holding(self, slots: Mapping[str, int], what: str, call: Call[T]) -> T:
        """Run ``call`` (a $batch of reads for several mailboxes) on the batch pool, holding
        ``slots[mailbox]`` of each mailbox's slots; a failure fails the whole call."""
        with self._holding(slots):
            try:
                return self._on_loop(_BATCH_POOL, call)
            except _FAILURES as exc:
                where = f"graph {what} for {', '.join(sorted(slots))}"
                raise self._failed(exc, where, idempotent=True) from None

    def close(self) -> None:
        with self._lock:
            loop, thread, https = self._loop, self._thread, self._https
            self._loop = self._thread = self._auth = None
            self._clients, self._https = {}, []
        if loop is None or thread is None:
            return
        owned, self._owned = self._owned, None
        if owned is not None:
            self._credential = None

        async def shutdown() -> None:
            for http in https:
                await http.aclose()
            closer = getattr(owned, "close", None)  # azure.identity.aio credentials
            if closer is not None:
                result = closer()
                if asyncio.iscoroutine(result):
                    await result

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    # -- inside ------------------------------------------------------------------------------

    def _on_loop(self, pool: str, call: Call[T]) -> T:
        client, loop = self._connect(pool)
        return asyncio.run_coroutine_threadsafe(call(client), loop).result()

    def _failed(self, exc: BaseException, where: str, *,
                idempotent: bool) -> DeliveryRejected | DeliveryUnavailable:
        lost = failure(exc, where, self.who, idempotent=idempotent)
        log.info("%s", lost)
        return lost

    @contextlib.contextmanager
    def _holding(self, slots: Mapping[str, int]) -> Iterator[None]:
        """``slots[mailbox]`` of each mailbox's slots, taken in one order by one thread at a
        time, all released at the end."""
        taken: list[threading.BoundedSemaphore] = []
        try:
            with _BATCH_ACQUIRE:
                for mailbox in sorted(slots):
                    slot = self._slot(mailbox)
                    for _ in range(slots[mailbox]):
                        slot.acquire()
                        taken.append(slot)
            yield
        finally:
            for slot in taken:
                slot.release()

    def _slot(self, mailbox: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(mailbox.lower())
            if slot is None:
                slot = self._slots[mailbox.lower()] = threading.BoundedSemaphore(
                    self.max_in_flight)
            return slot

    def _connect(self, pool: str) -> tuple[GraphServiceClient, asyncio.AbstractEventLoop]:
        """The pool's client (a mailbox's, or the batches'; one shared credential) and the
        private loop, both made on first use."""
        with self._lock:
            if self._auth is None:
                credential = self._credential
                if credential is None:
                    credential = self._credential = self._owned = self._sign_in()
                self._auth = authentication(credential, self.base_url)
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name="graph-mailer")
                self._thread.start()
            client = self._clients.get(pool.lower())
            if client is None:
                # One connection pool per mailbox, as large as its slots: httpcore scans
                # every pooled connection on each request, so one shared HTTP/1.1 pool of
                # 80 connections (20 mailboxes x 4) cost ~3 ms of CPU a request in
                # tests/bench/graph_throughput.py. Over HTTP/2 (Graph itself) each mailbox
                # then uses one multiplexed connection.
                http = GraphClientFactory.create_with_default_middleware(
                    client=httpx.AsyncClient(
                        timeout=httpx.Timeout(self.timeout), http2=True,
                        limits=httpx.Limits(max_connections=self.max_in_flight,
                                            max_keepalive_connections=self.max_in_flight)),
                    options={RetryHandlerOption.get_key(): self.retry})
                self._https.append(http)
                adapter = GraphRequestAdapter(self._auth, client=http)
                adapter.base_url = self.base_url  # every request builder expands {+baseurl}
                client = self._clients[pool.lower()] = GraphServiceClient(
                    request_adapter=adapter)
            return client, self._loop
