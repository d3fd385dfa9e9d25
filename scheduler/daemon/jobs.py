"""The jobs APScheduler runs: module-level functions taking only the instance's id
(reliability.md X6: a job store holds no address, name or secret; APScheduler 3 refers to
a job's function by its module path). The truth is in our tables, so the jobs are made
again from them whenever an instance starts leading; the job store is memory only."""

from __future__ import annotations

from typing import Protocol


class Running(Protocol):
    def wake(self) -> None: ...

    def replan(self) -> None: ...

    def watch(self) -> None: ...

    def expire(self) -> None: ...


_instances: dict[str, Running] = {}


def register(instance: str, service: Running) -> None:
    _instances[instance] = service


def unregister(instance: str) -> None:
    _instances.pop(instance, None)


def _run(instance: str, job: str) -> None:
    """The instance's job; nothing when it has stopped (a job its shutdown left running
    may still fire once)."""
    service = _instances.get(instance)
    if service is not None:
        getattr(service, job)()


def wake(instance: str) -> None:
    """Enqueue what falls due and deliver what is due."""
    _run(instance, "wake")


def replan(instance: str) -> None:
    """Plan the stored schedule again, raise alerts, read answers, rewrite feeds."""
    _run(instance, "replan")


def watch(instance: str) -> None:
    """Look for edited files and for changes made beside the service."""
    _run(instance, "watch")


def expire(instance: str) -> None:
    """Erase personal data past its retention period."""
    _run(instance, "expire")
