"""Prometheus metrics and a health endpoint for a serving app (``serve --metrics-port``).

Needs ``prometheus-client`` (``pip install 'vincent-amqp[metrics]'``). Imported only
when metrics are asked for: nothing here costs anything otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vincent_core import observe
from vincent_core.errors import ConfigurationError
from vincent_core.observe import CallOutcome, MessageOutcome

__all__ = ["MetricsServer", "PrometheusObserver", "app_health"]

_STATES = ("connecting", "connected", "blocked", "reconnecting", "closed")


class PrometheusObserver(observe.Observer):
    """Turns vincent's events into Prometheus metrics on a registry of its own."""

    def __init__(self) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise ConfigurationError(
                "metrics need prometheus-client: pip install 'vincent-amqp[metrics]'"
            ) from None
        self.prom = prom
        self.registry = prom.CollectorRegistry()
        self.messages = prom.Counter(
            "vincent_messages",
            "Messages settled by listeners, by outcome",
            ["key", "outcome"],
            registry=self.registry,
        )
        self.handler_seconds = prom.Histogram(
            "vincent_handler_seconds",
            "Time from delivery to settlement",
            ["key"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.in_flight_gauge = prom.Gauge(
            "vincent_in_flight", "Messages being handled now", ["key"], registry=self.registry
        )
        self.calls = prom.Counter(
            "vincent_calls", "Calls made, by outcome", ["key", "outcome"], registry=self.registry
        )
        self.call_seconds = prom.Histogram(
            "vincent_call_seconds", "Call round trips", ["key"], registry=self.registry
        )
        self.connection_state = prom.Gauge(
            "vincent_connection_state",
            "1 for the connection's current state",
            ["state"],
            registry=self.registry,
        )

    def message(self, key: str, outcome: MessageOutcome, seconds: float) -> None:
        self.messages.labels(key, outcome).inc()
        if outcome in ("handled", "failed", "rejected"):
            self.handler_seconds.labels(key).observe(seconds)

    def in_flight(self, key: str, delta: int) -> None:
        self.in_flight_gauge.labels(key).inc(delta)

    def call(self, key: str, outcome: CallOutcome, seconds: float) -> None:
        self.calls.labels(key, outcome).inc()
        if outcome == "ok":
            self.call_seconds.labels(key).observe(seconds)

    def connection(self, url: str, state: str) -> None:
        for name in _STATES:
            self.connection_state.labels(name).set(1 if name == state else 0)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return bytes(self.prom.generate_latest(self.registry))


HealthCheck = Callable[[], tuple[bool, str]]


class MetricsServer:
    """``/metrics`` and ``/healthz`` over HTTP, on a daemon thread.

    ::

        server = MetricsServer(9100, health=lambda: (True, "ok"))
        server.start()
        ...
        server.stop()
    """

    def __init__(self, port: int, *, health: HealthCheck, host: str = "0.0.0.0") -> None:
        self.observer = PrometheusObserver()
        self.health = health
        observer, health_check = self.observer, health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/metrics":
                    self._send(200, observer.render(), "text/plain; version=0.0.4")
                elif self.path.split("?")[0] in ("/healthz", "/health"):
                    ok, text = health_check()
                    self._send(200 if ok else 503, (text + "\n").encode(), "text/plain")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would drown the worker's own log

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise ConfigurationError(f"cannot serve metrics on port {port}: {exc}") from None
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="vincent-metrics", daemon=True
        )
        self._previous: observe.Observer | None = None

    def start(self) -> MetricsServer:
        """Install the observer and start serving."""
        self._previous = observe.set_observer(self.observer)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and uninstall the observer."""
        observe.set_observer(self._previous)
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def app_health(app: Any) -> HealthCheck:
    """Healthy while the app's connection is up and every listener consumes (or is
    paused by its own ``active`` check)."""

    def check() -> tuple[bool, str]:
        client, worker = app.client, app.worker
        if client is None or worker is None:
            return False, "not running"
        if client.state not in ("connected", "blocked"):
            return False, f"connection {client.state}"
        idle = [
            r.listener.key
            for r in worker.running
            if r.subscription is None and r.listener.active is None
        ]
        if idle:
            return False, "not consuming: " + ", ".join(idle)
        if client.state == "blocked":
            # Consuming and acking go on; a restart would not lift the broker's alarm.
            return True, "ok; publishing blocked by the broker (resource alarm)"
        return True, "ok"

    return check
