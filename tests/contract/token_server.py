"""A local Microsoft identity platform token endpoint over HTTPS, for the ``graph`` backend's
client-secret and certificate credentials (azure-identity refuses an authority that is not
https, ``azure.identity._internal.utils.normalize_authority``).

It owns a throw-away certificate authority made with ``cryptography`` (its PEM is what the
client is told to trust), a server certificate for 127.0.0.1 signed by it, and one endpoint:
``POST /{tenant}/oauth2/v2.0/token`` with the OAuth 2.0 client-credentials grant (RFC 6749
section 4.4) authenticated by ``client_secret`` or by a ``client_assertion`` JWT (RFC 7523,
as the identity platform's "certificate credentials" page describes: PS256 or RS256, signed
by the registered certificate, ``aud`` the token URL, ``iss`` = ``sub`` = the client id).
The answers and errors are the platform's (``invalid_client``, AADSTS7000215). Nothing else
is served: azure-identity's async credentials post straight to the token URL (no MSAL, so no
instance or OpenID discovery), and every request is recorded so a test can show that.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class TokenRequest:
    method: str
    path: str
    form: dict[str, str]


@dataclass
class Client:
    """An app registration: a secret, or a certificate (its public key checks the JWT)."""

    secret: str | None = None
    certificate: x509.Certificate | None = None
    issued: list[str] = field(default_factory=list)  # access tokens handed out


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Certificate | None = None,
                 issuer_key: rsa.RSAPrivateKey | None = None, *, ca: bool = False,
                 ip: str | None = None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(ip)), x509.DNSName("localhost")]),
            critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def client_certificate(directory: Path, name: str = "yhdyspinta-app") -> tuple[Path,
                                                                                x509.Certificate]:
    """A self-signed client certificate with its key in one PEM file, the form
    ``CertificateCredential(certificate_path=...)`` reads; and the certificate to register."""
    key = _key()
    cert = _certificate(name, key)
    path = directory / f"{name}.pem"
    path.write_bytes(_pem(key) + cert.public_bytes(serialization.Encoding.PEM))
    return path, cert


class TokenServer:
    def __init__(self, directory: Path) -> None:
        self.clients: dict[tuple[str, str], Client] = {}  # (tenant, client id) -> client
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        ca_key, server_key = _key(), _key()
        ca = _certificate("yhdyspinta test CA", ca_key, ca=True)
        server = _certificate("127.0.0.1", server_key, ca, ca_key, ip="127.0.0.1")
        self.ca_file = directory / "token-ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        chain = directory / "token-server.pem"
        chain.write_bytes(_pem(server_key) + server.public_bytes(serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def authority_host(self) -> str:
        """What ``[graph] authority_host`` says: host and port, https implied."""
        return f"127.0.0.1:{self._httpd.server_port}"

    def register(self, tenant: str, client_id: str, *, secret: str | None = None,
                 certificate: x509.Certificate | None = None) -> Client:
        client = self.clients[(tenant, client_id)] = Client(secret, certificate)
        return client

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def token(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(TokenRequest("POST", path, form))
        parts = path.strip("/").split("/")
        if parts[1:] != ["oauth2", "v2.0", "token"]:
            return 404, {"error": "invalid_request", "error_description": "not found"}
        client = self.clients.get((parts[0], form.get("client_id", "")))
        if form.get("grant_type") != "client_credentials":
            return 400, _error("unsupported_grant_type", "AADSTS70003", "The app requested an "
                               "unsupported grant type.")
        if client is None:
            return 400, _error("unauthorized_client", "AADSTS700016", "Application with "
                               f"identifier '{form.get('client_id')}' was not found in the "
                               f"directory '{parts[0]}'.")
        if not form.get("scope", "").endswith("/.default"):
            return 400, _error("invalid_scope", "AADSTS1002012", "The provided value for scope "
                               f"{form.get('scope')} is not valid. Client credential flows must "
                               "have a scope value with /.default suffixed to the resource "
                               "identifier (application ID URI).")
        problem = self._authenticate(client, form, f"https://{self.authority_host}{path}")
        if problem:
            return 401, _error("invalid_client", *problem)
        token = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(24)
        client.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}

    @staticmethod
    def _authenticate(client: Client, form: dict[str, str], url: str) -> tuple[str, str] | None:
        if "client_secret" in form:
            if client.secret is not None and secrets.compare_digest(form["client_secret"],
                                                                    client.secret):
                return None
            return ("AADSTS7000215", ("Invalid client secret provided. Ensure the secret being "
                    "sent in the request is the client secret value, not the client secret ID, "
                    f"for a secret added to app '{form.get('client_id')}'."))
        if form.get("client_assertion_type") == JWT_BEARER and client.certificate is not None:
            return verify_assertion(form.get("client_assertion", ""), client.certificate,
                                    form.get("client_id", ""), url)
        return ("AADSTS7000218", ("The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'."))


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_assertion(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = assertion.split(".")
    return json.loads(_b64(header)), json.loads(_b64(payload))


def verify_assertion(assertion: str, certificate: x509.Certificate, client_id: str,
                     url: str) -> tuple[str, str] | None:
    """None if the JWT is signed by ``certificate`` and names this client and endpoint."""
    try:
        header, claims = decode_assertion(assertion)
        signed, signature = assertion.rsplit(".", 1)
        key = certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        scheme: padding.AsymmetricPadding = padding.PKCS1v15()
        if header.get("alg") == "PS256":  # RFC 7518 3.5: salt as long as the hash
            scheme = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        elif header.get("alg") != "RS256":
            return ("AADSTS5002730", f"Invalid JWT token: unsupported alg {header.get('alg')}.")
        key.verify(_b64(signature), signed.encode(), scheme, hashes.SHA256())
    except (ValueError, InvalidSignature, AssertionError):
        return ("AADSTS700027", ("The certificate with identifier used to sign the client "
                "assertion is not registered on application, or the signature is invalid."))
    thumbprint = base64.urlsafe_b64encode(
        certificate.fingerprint(hashes.SHA256())).decode().rstrip("=")
    if (header.get("x5t#S256") or "").rstrip("=") != thumbprint:
        return ("AADSTS700027", "Client assertion contains an invalid thumbprint.")
    if claims.get("aud") != url or claims.get("iss") != client_id or claims.get("sub") != client_id:
        return ("AADSTS700021", ("Client assertion application identifier doesn't match "
                "'client_id' parameter, or its audience is not this endpoint."))
    if not claims.get("nbf", 0) - 300 <= time.time() <= claims.get("exp", 0):
        return ("AADSTS700024", "Client assertion is not within its valid time range.")
    return None


def _error(code: str, aadsts: str, text: str) -> dict[str, Any]:
    # The identity platform's error body (RFC 6749 section 5.2 plus its own fields).
    return {"error": code, "error_description": f"{aadsts}: {text} Trace ID: "
            "00000000-0000-0000-0000-000000000000", "error_codes": [int(aadsts[6:])],
            "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": hashlib.sha256(text.encode()).hexdigest()[:32]}


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            self._answer(*server.token(self.path, form))

        def do_GET(self) -> None:  # recorded, so a test can show no discovery was asked
            with server._lock:
                server.requests.append(TokenRequest("GET", self.path, {}))
            self._answer(404, {"error": "invalid_request", "error_description": "not served"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running(directory: Path) -> Iterator[TokenServer]:
    server = TokenServer(directory).start()
    try:
        yield server
    finally:
        server.stop()
