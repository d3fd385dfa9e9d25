"""What a failed Graph call means for the outbox: DeliveryRejected (final) or
DeliveryUnavailable (later; "uncertain" when a call without an idempotency key may have been
carried out), in Graph's own error words and never the request's or the response's headers;
and how long Graph asks us to wait (Retry-After).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
from azure.core.exceptions import AzureError, ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from scheduler.delivery.ports import DeliveryRejected, DeliveryUnavailable

# The longest Retry-After we sleep through inside one call; beyond it the job is rescheduled
# (kiota itself gives up at 180 s, RetryHandlerOption.MAX_DELAY).
MAX_WAIT = 120.0


def failure(exc: BaseException, where: str, who: str, *,
            idempotent: bool) -> DeliveryRejected | DeliveryUnavailable:
    """``exc`` from the call ``where`` ("graph create event for <mailbox>") as the outbox
    sees it; ``who`` names the tenant and client a refused login was for."""
    if isinstance(exc, ClientAuthenticationError):
        # Never the library's text: it can quote the request. Who, not with what.
        return DeliveryRejected(f"{where}: authentication failed for {who}")
    if isinstance(exc, APIError):
        status = exc.response_status_code or 0
        text = f"{where}: {status} {graph_error(exc)}"
        if status == 401:
            return DeliveryRejected(f"{text} ({who})")
        if status == 429:
            wait = retry_after(exc.response_headers)
            return DeliveryUnavailable(f"{text}; throttled" + (
                f", Retry-After {wait:.0f} s" if wait is not None else ""))
        if status >= 500:
            if idempotent:
                return DeliveryUnavailable(text)
            return DeliveryUnavailable(f"{text}; the server may have sent it, so the next "
                                       "attempt looks for it before sending", uncertain=True)
        return DeliveryRejected(text)
    if isinstance(exc, httpx.TransportError):
        kind = exc.__class__.__name__
        # Connect errors and pool waits never put the request on the wire.
        sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout
                              | httpx.PoolTimeout)
        if sent and not idempotent:
            return DeliveryUnavailable(f"{where}: {kind} after the request was sent; the "
                                       "next attempt looks for it before sending",
                                       uncertain=True)
        return DeliveryUnavailable(f"{where}: {kind}")
    if isinstance(exc, AzureError):  # the token endpoint unreachable, a transport error
        return DeliveryUnavailable(f"{where}: {exc.__class__.__name__} while signing in")
    return DeliveryRejected(f"{where}: {exc.__class__.__name__}")


def graph_error(exc: APIError) -> str:
    """Graph's error code and message (ODataError), never the response headers."""
    if isinstance(exc, ODataError) and exc.error is not None:
        return f"{exc.error.code or ''}: {exc.error.message or ''}".strip(": ")
    return exc.__class__.__name__


def retry_after(headers: dict[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
