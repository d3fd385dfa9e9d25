"""Signing in to Graph: the credential a mailer is configured with (a client secret, a
certificate, or a bearer token kept in a file), and kiota's authentication provider that puts
its token on requests to the Graph host only.

Credentials come from files and never appear in an exception or a log line; a refused login
names the tenant and client only (``failures``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

# msgraph_core ships no py.typed; only this name is used from it here.
from msgraph_core.authentication import (  # type: ignore[import-untyped]
    AzureIdentityAuthenticationProvider,
)

from scheduler.delivery.exchange import read_secret
from scheduler.delivery.ports import DeliveryRejected


class TokenCredential(Protocol):
    """azure.core's TokenCredential, sync or async (the kiota provider awaits either)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken | Awaitable[AccessToken]: ...


class TokenFileCredential:
    """A bearer token kept in a file by something else (a sidecar, ``az account
    get-access-token``); read on every call so a rotated file is picked up. No ``__repr__``
    shows the token."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        del scopes, kwargs
        try:
            token = self._path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ClientAuthenticationError(f"cannot read token_file ({exc.strerror})") from None
        if not token:
            raise ClientAuthenticationError("token_file is empty")
        return AccessToken(token, int(time.time()) + 300)

    def __repr__(self) -> str:
        return f"TokenFileCredential({str(self._path)!r})"


def make_credential(*, tenant_id: str, client_id: str, client_secret_file: str,
                    certificate_file: str, token_file: str,
                    authority_host: str) -> TokenCredential:
    """The credential the configuration names: ``token_file`` first, then a client secret,
    then a certificate (both against ``authority_host`` for ``tenant_id``)."""
    if token_file:
        return TokenFileCredential(token_file)
    # Imported here: azure.identity pulls in msal and cryptography, needed only for these.
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    if not (tenant_id and client_id):
        raise DeliveryRejected("graph: tenant_id and client_id are needed with "
                               "client_secret_file or certificate_file")
    if client_secret_file:
        secret = read_secret("graph", client_secret_file, "client_secret_file")
        return ClientSecretCredential(tenant_id, client_id, secret,
                                      authority=authority_host, **_sign_in_tls())
    if certificate_file:
        return CertificateCredential(tenant_id, client_id, certificate_path=certificate_file,
                                     authority=authority_host, **_sign_in_tls())
    raise DeliveryRejected("graph: no credential: set client_secret_file, "
                           "certificate_file or token_file")


def authentication(credential: TokenCredential,
                   base_url: str) -> AzureIdentityAuthenticationProvider:
    """kiota's provider for ``credential``, asking for Graph's scope. allowed_hosts: kiota
    attaches no token to any other host than ``base_url``'s, silently (tech.md 4)."""
    host = urlsplit(base_url).hostname or "graph.microsoft.com"
    return AzureIdentityAuthenticationProvider(
        credential, scopes=[f"https://{_scope_host(host)}/.default"], allowed_hosts=[host])


def _sign_in_tls() -> dict[str, Any]:
    """The CA bundle for signing in, when ``SSL_CERT_FILE`` names one. azure-identity's async
    credentials post to the token endpoint through aiohttp, whose verifying SSL context is
    made once, when aiohttp is first imported (``aiohttp.connector._SSL_CONTEXT_VERIFIED``),
    so a bundle set later (a private authority, a TLS-inspecting proxy) would be ignored;
    azure-core's ``connection_verify`` applies it to every sign-in request."""
    bundle = os.environ.get("SSL_CERT_FILE", "")
    return {"connection_verify": bundle} if bundle and Path(bundle).is_file() else {}


def _scope_host(host: str) -> str:
    # A local test server still asks for Graph's scope; the fake credential ignores it.
    return "graph.microsoft.com" if host in {"127.0.0.1", "localhost", "::1"} else host
