"""``/healthz``, ``/readyz`` and ``/metrics`` over HTTP (standard library server, one
thread per request): what an orchestrator, a load balancer and Prometheus ask.

* ``/healthz``: the process is alive and its main loop turns (200), else 503;
* ``/readyz``: the instance is leader or standby, the database answers and the catalogue
  is valid (200), else 503 with the reason; the body says which in JSON;
* ``/metrics``: the Prometheus text format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import Metrics

Status = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    def __init__(self, host: str, port: int, *, alive: Status, ready: Status,
                 metrics: Metrics) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/healthz": lambda: _json(*alive()),
            "/readyz": lambda: _json(*ready()),
            "/metrics": lambda: (200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry)),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the standard library's name
                route = routes.get(self.path.split("?", 1)[0])
                status, kind, body = route() if route else (404, "text/plain", b"not found\n")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # probes every few seconds would drown the log

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name="yhdyspinta-http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(ok: bool, body: dict[str, Any]) -> tuple[int, str, bytes]:
    return (200 if ok else 503, "application/json",
            json.dumps(body, ensure_ascii=False).encode() + b"\n")
