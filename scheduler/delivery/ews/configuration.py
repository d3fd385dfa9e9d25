"""The exchangelib Configuration of one EwsMailer and how its accounts reach the server: a
fixed ``service_endpoint`` (no autodiscover), a pinned ``version`` (no probing), the login
(OAuth 2 client credentials, NTLM or Basic), the retry policy (``faults.fault_tolerance``),
the access type per mailbox, and, when TLS certificates are not to be verified, a protocol
of this mailer's own that does not verify them.
"""

from __future__ import annotations

from typing import Any, Literal

from exchangelib import (  # type: ignore[import-untyped]
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Build,
    Configuration,
    Credentials,
    OAuth2Credentials,
    Version,
)
from exchangelib.protocol import NoVerifyHTTPAdapter, Protocol  # type: ignore[import-untyped]
from exchangelib.version import VERSIONS  # type: ignore[import-untyped]

from .faults import fault_tolerance

Auth = Literal["oauth2", "ntlm", "basic"]
AccessType = Literal["", "impersonation", "delegate"]


def make_configuration(service_endpoint: str, auth: Auth, credentials: Any, version: Any,
                  retry_seconds: int) -> Any:
    return Configuration(
        service_endpoint=service_endpoint, credentials=credentials,
        auth_type=OAUTH2 if auth == "oauth2" else NTLM if auth == "ntlm" else BASIC,
        version=version, max_connections=4,  # tech.md section 5: EWS budget is 27
        retry_policy=fault_tolerance(retry_seconds))


def make_credentials(auth: Auth, secret: str, *, username: str, client_id: str, tenant_id: str,
          token_url: str) -> Any:
    """The exchangelib credentials: an app's client secret (oauth2), else a user's password."""
    if auth == "oauth2":
        return _oauth2_credentials(token_url)(
            client_id=client_id, client_secret=secret, tenant_id=tenant_id or None)
    return Credentials(username, secret)


def access_type_for(chosen: AccessType, auth: Auth, username: str, mailbox: str) -> str:
    """How the login acts for ``mailbox`` (lower case): as configured, else impersonation,
    except a service account's own mailbox on-prem."""
    if chosen:
        return str(IMPERSONATION if chosen == "impersonation" else DELEGATE)
    if auth == "oauth2":
        return str(IMPERSONATION)  # app-only token, full_access_as_app (tech.md section 3)
    # A service account on-prem: its own mailbox directly, others by impersonation.
    return str(DELEGATE if mailbox == username.lower() else IMPERSONATION)


def pinned_version(name: str) -> Any:
    """``Exchange2016`` -> a Version with a Build, so exchangelib does not probe the server."""
    builds = [build for build, api, _ in VERSIONS if api == name]
    if not builds:
        names = sorted({api for _, api, _ in VERSIONS})
        raise ValueError(f"ews: unknown version {name!r}; expected one of {', '.join(names)}")
    # The oldest build with this API version: never claims a field the server lacks.
    build: Build = builds[-1]
    return Version(build=build, api_version=name)


def _oauth2_credentials(token_url: str) -> Any:
    """OAuth2Credentials, with the token endpoint moved when ``token_url`` is set (a sovereign
    cloud, a test peer). exchangelib hard-codes login.microsoftonline.com in a property."""
    if not token_url:
        return OAuth2Credentials
    return type("OAuth2CredentialsAt", (OAuth2Credentials,),
                {"token_url": property(lambda self: token_url)})


class UnverifiedProtocol(Protocol):  # type: ignore[misc]
    """A Protocol whose sessions do not verify TLS certificates (``verify_tls = false``),
    for the accounts of the one Configuration that asks for it.

    exchangelib's documented way ("Proxies and custom TLS validation") is to set
    ``BaseProtocol.HTTP_ADAPTER_CLS``, which every EWS session of the process then uses. In
    exchangelib 5.6 the adapter is read per protocol class, when a session is made
    (``raw_session`` and ``get_adapter`` are classmethods reading ``cls.HTTP_ADAPTER_CLS``),
    and a service reaches the server through its account's ``protocol``; so a subclass
    carries it for this Configuration only. Protocols are cached per endpoint and
    credentials; this one under a key of its own, so a verifying Protocol for the same
    endpoint and login is never handed one that does not verify, nor the other way round.
    """

    HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter

    @staticmethod
    def _cache_key(config: Any) -> Any:
        return config.service_endpoint, config.credentials, "tls-not-verified"
