"""The long-running service: one leader (lock.py) whose APScheduler clock wakes the same
use cases the command line calls, at the times our own tables give.

* ``replan``: the stored schedule planned again (at the start, every ``replan_hours``,
  after an edit of bodies/, calendars/ or contacts), alerts raised, answers read, feeds
  written; the conveners' calendars are read here only (``[planning] freebusy``).
* ``wake``: the actions falling due within ``LOOKAHEAD`` enqueued, everything due
  delivered, and the next wake set at the earliest waiting row (one indexed query).
* ``watch``: every ``poll_seconds``, edited files reloaded (an invalid edit keeps the last
  valid catalogue and is shown on /readyz), and the next wake brought forward when a
  ``move``, ``cancel`` or ``held`` from the command line changed the schedule.
* ``expire``: personal data past ``[retention]`` erased, daily.

Downtime: at start every waiting row is delivered by the due policy (planning.due):
what is still useful goes once, late; the rest is recorded as missed. A wall-clock jump
is noticed by the main loop, which makes the jobs again (APScheduler 3 sleeps on the
monotonic clock and would otherwise wake late, or not for an hour after a jump back).
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from scheduler.errors import UserError
from scheduler.service.answers import read_answers
from scheduler.service.bootstrap import Services, load_services
from scheduler.service.deliver import DeliveryReport, deliver
from scheduler.service.enqueue import enqueue_actions, raise_alerts
from scheduler.service.feeds import write_feeds
from scheduler.service.schedule import attendee_changes, refresh

from . import jobs
from .health import HealthServer
from .lock import FileLock, LeaderLock, leader_lock
from .logs import outbox_id, redact
from .metrics import Metrics
from .watch import Watcher

log = logging.getLogger("yhdyspinta.service")

# Actions falling due this far ahead are enqueued at each wake, so the next wake is the
# earliest waiting row; a wake comes at least every third of it to enqueue further ones.
LOOKAHEAD = timedelta(minutes=15)
RETRY_AFTER = timedelta(seconds=10)  # a run that failed (database down): try again then
CLOCK_JUMP = 5.0  # seconds the wall clock may drift from the monotonic one per loop turn

Clock = Callable[[], datetime]


def _real_now() -> datetime:
    return datetime.now(UTC)


def _words(exc: BaseException) -> str:
    """An error for the log: the driver's first line for a database error, whose full text
    repeats the statement and its parameters (outbox keys, which hold addresses)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).splitlines()
    return redact(f"{type(exc).__name__}: {text[0] if text else ''}")


class Daemon:
    """One instance of ``serve``. ``clock`` is the time the use cases see (tests pass a
    virtual one and call the jobs themselves)."""

    def __init__(self, services: Services, *, bodies: Path, config: Path | None,
                 clock: Clock = _real_now, lock: LeaderLock | None = None) -> None:
        self.id = f"serve:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        services.identity = self.id
        self.services, self.bodies, self.config, self.clock = services, bodies, config, clock
        self.settings = services.settings.service
        self.lock = lock or leader_lock(services.settings.database.url)
        self.stopping = threading.Event()  # SIGTERM: drain and exit
        self.halt = threading.Event()  # this leadership ends (stopping, or the lock lost)
        self.leading = threading.Event()
        self.started = False  # the first leadership's first plan is done
        self.problem: str | None = None  # an invalid edit, while the last valid one runs
        self.scheduler: BackgroundScheduler | None = None
        self.wake_at: datetime | None = None
        self.stamp: tuple[Any, ...] | None = None
        self.enqueued: datetime | None = None  # actions enqueued up to then (None: redo)
        self.beat = time.monotonic()
        self.metrics = Metrics(lambda: self.services.store.counts())
        self.watcher = Watcher(self._watched())
        self._work = threading.Lock()  # one use case at a time, whichever job runs it
        self._drained = True  # False: a shutdown left calls under way after drain_seconds

    # -- the process ------------------------------------------------------------------------

    def run(self, host: str, port: int, ready: Callable[[tuple[str, int]], None] | None = None
            ) -> int:
        """Lead or stand by until SIGTERM (or SIGINT); 0 when drained in time."""
        held = self.lock.acquire()
        if not held and self.lock.exclusive:
            holder = self.lock.holder() if isinstance(self.lock, FileLock) else ""
            raise UserError(f"another `yhdyspinta serve` is running on this database: it holds "
                            f"the lock {self.lock.description}"
                            + (f" (host and process {holder})" if holder else "")
                            + "; one service per SQLite database. Stop it first, or use "
                            "PostgreSQL to run a standby.")
        try:
            http = HealthServer(host, port, alive=self.alive, ready=self.ready,
                                metrics=self.metrics)
        except OSError as exc:
            self.lock.release()
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}; set [service] "
                            "port or --port") from None
        http.start()
        log.info("listening on http://%s:%d (/healthz /readyz /metrics)", *http.address)
        if ready:
            ready(http.address)
        self._signals()
        jobs.register(self.id, self)
        try:
            while not self.stopping.is_set():
                if held or self._wait_for_lock():
                    held = False
                    self._lead()
            return 0 if self._drain() else 1
        finally:
            jobs.unregister(self.id)
            self.lock.release()
            http.stop()
            self.services.close()
            log.info("stopped")

    def stop(self) -> None:
        self.stopping.set()
        self.halt.set()

    def _signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # tests run the service in a thread and call stop()

        def handler(signum: int, frame: FrameType | None) -> None:
            del frame
            log.info("%s: draining the calls under way", signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _wait_for_lock(self) -> bool:
        """A standby until the lock comes free (PostgreSQL; or the lock was lost)."""
        if self.lock.acquire():
            return True
        log.info("standby: another instance leads (%s); trying again every %.0f s",
                 self.lock.description, self.settings.standby_seconds)
        while not self.stopping.wait(self.settings.standby_seconds):
            self.beat = time.monotonic()
            if self.lock.acquire():
                return True
        return False

    def _lead(self) -> None:
        """Leader until stopped or the lock is lost: jobs made from the tables, the main
        loop watching the lock and the wall clock."""
        log.info("leader: this instance sends (%s)", self.lock.description)
        self.halt.clear()
        if self.stopping.is_set():
            return
        self.leading.set()
        self.metrics.leader.set(1)
        try:
            recovered = self.services.store.recover_from("serve:")
            if recovered:
                log.warning("%d messages a stopped service left under way are uncertain: "
                            "each is looked up before it is sent again", recovered)
        except Exception as exc:  # noqa: BLE001 - the jobs retry; the database may be starting
            log.error("could not take up the rows left under way: %s", _words(exc))
        self.scheduler = self._scheduler()
        self.scheduler.start()
        last_wall, last_mono = time.time(), time.monotonic()
        try:
            while not self.stopping.wait(1.0):
                self.beat = time.monotonic()
                wall, mono = time.time(), time.monotonic()
                if abs((wall - last_wall) - (mono - last_mono)) > CLOCK_JUMP:
                    log.warning("the clock jumped by %+.0f s: jobs made again from the tables",
                                (wall - last_wall) - (mono - last_mono))
                    self._jobs(self.scheduler, first=False)
                last_wall, last_mono = wall, mono
                if not self.lock.alive():
                    log.error("leader lock lost (%s): standing by", self.lock.description)
                    break
        finally:
            self._step_down()

    def _step_down(self) -> None:
        self.halt.set()  # a delivery under way starts no further call
        self.leading.clear()
        self.metrics.leader.set(0)
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            self._shutdown(scheduler)

    def _shutdown(self, scheduler: BackgroundScheduler) -> None:
        """Stop the clock and let the job under way finish (a delivery run stops starting
        calls once ``stopping`` is set, and records those under way)."""
        done = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True},
                                name="yhdyspinta-drain", daemon=True)
        done.start()
        done.join(self.settings.drain_seconds)
        self._drained = not done.is_alive()

    def _drain(self) -> bool:
        drained = self._drained
        if not drained:
            log.error("calls still under way after %.0f s; the next start looks them up before "
                      "sending them again", self.settings.drain_seconds)
        return drained

    # -- the jobs ---------------------------------------------------------------------------

    def _scheduler(self) -> BackgroundScheduler:
        # One worker: the use cases run one after another, as the command line runs them.
        # No misfire limit and coalescing: a wake or re-plan late for any reason still
        # runs, once (reliability.md S6); whether a late message still goes is the due
        # policy's decision, not the clock's.
        scheduler = BackgroundScheduler(
            timezone=self.services.tz, executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._jobs(scheduler, first=True)
        return scheduler

    def _jobs(self, scheduler: BackgroundScheduler, *, first: bool) -> None:
        """Every job, made from the tables and the settings (``replace_existing``: making
        them again never adds a second)."""
        now = self.clock()
        every = self.settings
        if first:  # the schedule planned, then the first wake delivers what waits
            scheduler.add_job(jobs.replan, "date", run_date=now, args=[self.id],
                              id="replan-now", replace_existing=True)
            # A service restarted every night before the daily hour still erases.
            scheduler.add_job(jobs.expire, "date", run_date=now + timedelta(minutes=1),
                              args=[self.id], id="expire-now", replace_existing=True)
        scheduler.add_job(jobs.replan, "interval", hours=every.replan_hours, args=[self.id],
                          id="replan", replace_existing=True)
        scheduler.add_job(jobs.watch, "interval", seconds=every.poll_seconds, args=[self.id],
                          id="watch", replace_existing=True)
        retention = self.services.settings.retention
        scheduler.add_job(jobs.expire, "cron", hour=retention.hour, minute=0, args=[self.id],
                          id="expire", replace_existing=True)
        if not first:
            self._plan_wake(scheduler, now)

    def replan(self) -> None:
        with self._work:
            now = self.clock()
            try:
                services = self.services
                result = refresh(services, now)  # the conveners' calendars read here only
                attendee_changes(services, now)
                raise_alerts(services, result.plan, now)
                answers = read_answers(services, now)
                write_feeds(services, Path(services.settings.delivery.feeds),
                            services.settings.planning.language, now)
                self.stamp = services.store.schedule_stamp()
                self.enqueued = None
                log.info("schedule planned: %d meetings, %d problems; %d answers read",
                         len(result.plan.meetings), len(result.plan.problems), answers)
                self.started = True
            except Exception as exc:  # noqa: BLE001 - logged; the next re-plan tries again
                log.error("planning failed: %s", _words(exc))
                self._retry("replan-retry", jobs.replan)
                return
        self.wake()

    def wake(self) -> None:
        with self._work:
            now = self.clock()
            try:
                services = self.services
                if self.enqueued is None or now + LOOKAHEAD / 2 >= self.enqueued:
                    enqueue_actions(services, now + LOOKAHEAD)  # every meeting's chain: not
                    self.enqueued = now + LOOKAHEAD  # at each of a minute's 1,000 wakes
                report = deliver(services, now, clock=lambda row: now, now=now,
                                 stop=self.halt, pause=True)
                self._record(report, now)
            except Exception as exc:  # noqa: BLE001 - nothing is lost: the rows still wait
                log.error("delivery run failed, trying again in %d s: %s",
                          RETRY_AFTER.seconds, _words(exc))
                self._plan_wake(self.scheduler, now, when=now + RETRY_AFTER)
                return
            if not self.halt.is_set():
                self._plan_wake(self.scheduler, now)

    def watch(self) -> None:
        """Edits reloaded; the next wake brought forward by changes made beside us."""
        now = self.clock()
        try:
            if self.watcher.changed() and self._reload():
                self.replan()
                return
            stamp = self.services.store.schedule_stamp()
            if self.stamp is not None and stamp != self.stamp:
                self.stamp, self.enqueued = stamp, None
                log.info("the schedule was changed beside the service: delivering now")
                self.wake()
                return
            self.stamp = stamp
            first = self.services.store.next_due()
            if first is not None and (self.wake_at is None or first < self.wake_at):
                self._plan_wake(self.scheduler, now, when=max(first, now))
        except Exception as exc:  # noqa: BLE001 - the next poll tries again
            log.error("watch: %s", _words(exc))

    def expire(self) -> None:
        from scheduler.service.privacy import expire

        with self._work:
            try:
                erased = expire(self.services, self.clock())
                log.info("retention: %s", erased)
            except Exception as exc:  # noqa: BLE001 - tomorrow's run tries again
                log.error("retention failed: %s", _words(exc))

    # -- helpers ----------------------------------------------------------------------------

    def _plan_wake(self, scheduler: BackgroundScheduler | None, now: datetime, *,
                   when: datetime | None = None) -> None:
        """The next wake: the earliest waiting row, at the latest a third of LOOKAHEAD on."""
        if when is None:
            first = self.services.store.next_due()
            when = min(first or now + LOOKAHEAD / 3, now + LOOKAHEAD / 3)
            when = max(when, now)
        self.wake_at = when
        if scheduler is not None and not self.halt.is_set():
            scheduler.add_job(jobs.wake, "date", run_date=when, args=[self.id], id="wake",
                              replace_existing=True)

    def _retry(self, name: str, job: Callable[[str], None]) -> None:
        if self.scheduler is not None and not self.halt.is_set():
            self.scheduler.add_job(job, "date", run_date=self.clock() + RETRY_AFTER,
                                   args=[self.id], id=name, replace_existing=True)

    def _record(self, report: DeliveryReport, now: datetime) -> None:
        metrics = self.metrics
        for outcome, count in (("sent", report.sent), ("failed", len(report.failed)),
                               ("retry", len(report.retry)), ("missed", len(report.missed)),
                               ("skipped", report.skipped)):
            if count:
                metrics.messages.labels(outcome).inc(count)
        for seconds in report.lateness:
            metrics.lateness.observe(seconds)
        metrics.last_run.set(time.time())
        for missed in report.missed:
            row = missed.row
            log.debug("missed: %s (%s)", row.kind, missed.reason.value,
                      extra={"body": row.body, "meeting": row.meeting_uid,
                             "outbox": outbox_id(row.key)})
        if report.missed:  # after downtime, hundreds: one line by reason
            reasons = Counter(missed.reason.value for missed in report.missed)
            log.warning("missed (not sent, recorded): %s",
                        ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items())))
        for row, error, final in report.refusals:
            # The backend's words may quote the address, well-formed or not.
            words = redact(error.replace(row.recipient, "<address>")) if row.recipient else error
            log.log(logging.ERROR if final else logging.WARNING, "%s: %s %s",
                    "failed" if final else "to retry", row.kind, words,
                    extra={"body": row.body, "meeting": row.meeting_uid or row.alert,
                           "outbox": outbox_id(row.key)})
        if report.sent or report.failed or report.retry or report.missed:
            log.info("delivered: %d sent, %d to retry, %d failed, %d missed, %d skipped",
                     report.sent, len(report.retry), len(report.failed), len(report.missed),
                     report.skipped)
        try:
            metrics.queue.set(self.services.store.due_count(now))
        except Exception as exc:  # noqa: BLE001 - only a gauge
            log.debug("queue depth not read: %s", type(exc).__name__)

    def _watched(self) -> list[Path]:
        settings = self.services.settings
        return [self.bodies, Path(settings.planning.calendars), Path(settings.messages.contacts)]

    def _reload(self) -> bool:
        """The edited files read and checked as at start; the last valid ones stay active
        when they have problems (reliability.md F10: an atomic reload)."""
        try:
            fresh = load_services(self.config, self.bodies)
            _ = fresh.contacts, fresh.calendar  # checked now, not at the first message
        except UserError as exc:
            self.problem = str(exc)
            self.metrics.catalogue_valid.set(0)
            log.error("the edited files have problems; the last valid catalogue stays "
                      "active:\n%s", exc)
            return False
        if fresh.settings != self.services.settings:
            log.warning("the configuration file changed too: its settings apply after a restart")
        old = self.services
        for part in ("store", "backend"):
            if part in old.__dict__:
                fresh.__dict__[part] = old.__dict__[part]
        fresh.settings = old.settings
        fresh.identity = self.id
        self.services = fresh
        self.problem = None
        self.metrics.catalogue_valid.set(1)
        log.info("edited files reloaded: %d bodies", len(fresh.catalogue.bodies))
        return True

    # -- health -----------------------------------------------------------------------------

    def alive(self) -> tuple[bool, dict[str, Any]]:
        stalled = time.monotonic() - self.beat
        return stalled < 30, {"status": "alive" if stalled < 30 else "stalled",
                              "seconds_since_loop": round(stalled, 1)}

    def ready(self) -> tuple[bool, dict[str, Any]]:
        role = "leader" if self.leading.is_set() else "standby"
        body: dict[str, Any] = {"role": role, "instance": self.id}
        try:
            with self.services.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            body["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            body["database"] = redact(f"unreachable: {type(exc).__name__}")
        body["catalogue"] = "valid" if self.problem is None else "invalid"
        if self.problem is not None:
            body["problems"] = self.problem
        if self.wake_at is not None:
            body["next_wake"] = self.wake_at.isoformat()
        ok = body["database"] == "ok" and self.problem is None and not self.stopping.is_set()
        return ok, body
