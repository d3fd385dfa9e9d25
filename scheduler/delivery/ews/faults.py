"""What exchangelib raises, and what the outbox makes of it.

* ``fault_tolerance``: the retry policy (exchangelib's FaultTolerance), except that a 401 is
  a refused login and that a CreateItem is never sent twice (``no_blind_resend``);
* ``maybe_sent`` / ``never_sent``: whether a failed CreateItem may have been carried out by
  Exchange (its answer lost) or certainly never reached it (no connection made);
* ``Calls``: one EWS call at a time, and every failure translated into DeliveryRejected
  (final) or DeliveryUnavailable (later), without a secret in the text.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from exchangelib import FaultTolerance  # type: ignore[import-untyped]
from exchangelib import errors as ews_errors
from exchangelib.util import CONNECTION_ERRORS  # type: ignore[import-untyped]
from oauthlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout
from urllib3.exceptions import ConnectTimeoutError

from scheduler.delivery.ports import DeliveryRejected, DeliveryUnavailable

# EWS answers meaning "not now" (throttling, a busy or moving mailbox store, a dropped
# connection); everything else the server says about a request is final for that request.
TRANSIENT = (
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


class AnswerLost(Exception):
    """A CreateItem may have been done without its answer reaching us (a timeout, a dropped
    connection, a 503 from a proxy after Exchange did the work)."""


class Calls:
    """Translate what exchangelib raises into the two outcomes the outbox knows. One
    call at a time: exchangelib 5.6's session pool deadlocks when several threads back
    off at once (each shrinks the pool while waiting for a session the others hold), as
    the delivery contract's ErrorServerBusy case with four workers showed.

    ``who`` names the login in a refusal; ``redact`` cleans the server's error text."""

    def __init__(self, service_endpoint: str, who: str, redact: Callable[[str], str]) -> None:
        self.service_endpoint, self.who, self._redact = service_endpoint, who, redact
        self._one_at_a_time = threading.RLock()
        self._authenticated = False  # a 401 after a success in this run is throttling

    @contextlib.contextmanager
    def __call__(self, what: str, mailbox: str) -> Iterator[None]:
        with self._one_at_a_time:
            try:
                yield
            except (DeliveryRejected, DeliveryUnavailable):
                raise
            except ews_errors.UnauthorizedError:
                if self._authenticated:  # EWS also sends 401 to slow clients down (exchangelib)
                    raise DeliveryUnavailable(f"ews: {self.service_endpoint} refused {self.who} "
                                              "after accepting it earlier (401)") from None
                raise DeliveryRejected(f"ews: {self.service_endpoint} refused the login for "
                                       f"{self.who} (401)") from None
            except OAuth2Error as exc:
                # The token endpoint's error code only: its description and the request it
                # echoes may carry the secret (exchangelib#924).
                code = getattr(exc, "error", "") or exc.__class__.__name__
                if code in ("temporarily_unavailable", "server_error"):
                    raise DeliveryUnavailable(f"ews: no token for {self.who} ({code})") from None
                raise DeliveryRejected(
                    f"ews: the token endpoint refused {self.who} ({code})") from None
            except TRANSIENT as exc:
                raise DeliveryUnavailable(f"ews: could not {what} in {mailbox}: "
                                          f"{exc.__class__.__name__}") from None
            except ews_errors.ResponseMessageError as exc:
                text = self._redact(str(exc).splitlines()[0] if str(exc) else "")[:200]
                raise DeliveryRejected(f"ews: could not {what} in {mailbox}: "
                                       f"{exc.__class__.__name__} {text}".strip()) from None
            except (ews_errors.TransportError, ews_errors.CASError, OSError) as exc:
                # No connection, TLS, a proxy's 502: the environment, not this message.
                raise DeliveryUnavailable(f"ews: could not {what} in {mailbox}: "
                                          f"{exc.__class__.__name__}") from None
            else:
                self._authenticated = True


def fault_tolerance(max_wait: int) -> Any:
    """FaultTolerance (the default, FailFast, never retries: tech.md section 3), except that
    a 401 is a refused login, and that a CreateItem is not sent twice (no_blind_resend).
    FaultTolerance takes every 401 for throttling and retries it for up to ``max_wait``
    seconds, which on-prem counts as failed logins towards an AD lockout; Calls still
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
                raise AnswerLost(f"HTTP {response.status_code}") from exc
            raise

    def back_off(self: Any, seconds: Any) -> Any:
        if getattr(_RESEND, "guarded", False):
            # exchangelib calls this while it handles the failure (_handle_backoff in
            # services/common.py), so that failure is the exception being handled.
            failure = sys.exc_info()[1]
            lost = (not getattr(_RESEND, "answered", True)
                    or isinstance(failure, ews_errors.ErrorTimeoutExpired))
            if lost and not never_sent(failure):
                # No HTTP answer at all, or Exchange's own ErrorTimeoutExpired: exchangelib
                # re-sends after a timeout when it has more than one connection
                # (_get_elements). A connection never made may be tried again.
                raise AnswerLost("no answer before the timeout")
            _RESEND.answered = False  # the next attempt has to be answered in turn
        return FaultTolerance.back_off(self, seconds)

    policy = type("LoginAwareFaultTolerance", (FaultTolerance,),
                  {"raise_response_errors": raise_response_errors, "back_off": back_off})
    return policy(max_wait=max_wait)


_RESEND = threading.local()


@contextlib.contextmanager
def no_blind_resend() -> Iterator[None]:
    """While this thread creates a meeting or sends a message, exchangelib does not send the
    same CreateItem again after a failure that may have come after the work (a 503, a
    timeout, a dropped connection): AnswerLost is raised instead, and create_event looks
    the UID up, send ends uncertain. A SOAP ErrorServerBusy is still waited out and
    retried (Exchange refused the request before doing anything), and so is a connection
    that was never made."""
    _RESEND.guarded, _RESEND.answered = True, False
    try:
        yield
    finally:
        _RESEND.guarded = False


def maybe_sent(failure: BaseException) -> bool:
    """Whether a CreateItem that failed with ``failure`` may have been done by Exchange:
    its answer was lost (AnswerLost, a timeout, a dropped connection), not refused. A TLS
    failure (TransportError, raised at once, "most likely persistent") is not one."""
    if isinstance(failure, AnswerLost):
        return True
    lost = isinstance(failure, ews_errors.ErrorTimeoutExpired) or (
        _request_failure(failure) is not None
        and not isinstance(failure, ews_errors.TransportError))
    return lost and not never_sent(failure)


def never_sent(failure: BaseException | None) -> bool:
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
