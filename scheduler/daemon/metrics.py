"""Prometheus metrics of the service (``/metrics``): messages by outcome and by state,
how late they went, how many wait, and whether this instance leads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Seconds between a message's due time and its sending: 1 s is the service's own target
# for a reminder; the long tail is catch-up after downtime.
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400)


class _Outbox(Collector):
    """The outbox by state, read from the database at each scrape (the truth)."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("yhdyspinta_outbox_rows", "Outbox rows by state",
                                   labels=["state"])
        try:
            counts = self.counts()
        except Exception:  # noqa: BLE001 - the database is down: /readyz says so, not this
            return
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family


class Metrics:
    def __init__(self, outbox_counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter("yhdyspinta_messages", "Delivery outcomes since start",
                                ["outcome"], registry=self.registry)
        self.lateness = Histogram("yhdyspinta_lateness_seconds",
                                  "Seconds from a message's due time to its sending",
                                  buckets=LATENESS_BUCKETS, registry=self.registry)
        self.queue = Gauge("yhdyspinta_queue_depth", "Rows due and not yet sent",
                           registry=self.registry)
        self.leader = Gauge("yhdyspinta_leader", "1 when this instance is the active scheduler",
                            registry=self.registry)
        self.catalogue_valid = Gauge("yhdyspinta_catalogue_valid",
                                     "0 while an edit of bodies/, calendars/ or contacts is "
                                     "invalid (the last valid one stays active)",
                                     registry=self.registry)
        self.last_run = Gauge("yhdyspinta_last_delivery_timestamp_seconds",
                              "When the last delivery run ended", registry=self.registry)
        self.registry.register(_Outbox(outbox_counts))
        self.catalogue_valid.set(1)
