"""Keeps an eye on the devices between sessions: a kiosk whose scanner, printer or code reader is broken shows
the out-of-service screen instead of letting a citizen start a session that cannot finish, and comes back by
itself when the device is fixed. The checks are the cheap ones (status queries, no paper moved)."""
from __future__ import annotations

import logging
import time
from typing import Any
from collections.abc import Callable

log = logging.getLogger("kiosk.appliance.monitor")


class HealthMonitor:
    """Between sessions: device checks every `interval`, and the procedure catalogue pulled from the portal
    every `catalog_interval` (the last good copy stays when the portal cannot be reached)."""

    def __init__(self, session: Any, *, interval: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 checks: Callable[[Any], list] | None = None, catalog_interval: float = 1800.0) -> None:
        self.session = session
        self.interval = interval
        self.catalog_interval = catalog_interval
        self._last_catalog = -1e9
        self._syncing = False
        self.clock = clock
        self._checks = checks
        self._running = False
        self._last = -1e9
        self.last_checks: list = []
        self.last_reason: str | None = None
        self.held_reason: str | None = None  # a technician took the kiosk out of service by hand

    def hold(self, reason: str) -> None:
        """Technician: out of service until `release`, whatever the checks say."""
        self.held_reason = reason
        self.session.send("out_of_service", reason=reason, force=True)

    def release(self) -> None:
        self.held_reason = None
        self._last = -1e9  # check at once; back in service only if the devices are fine
        self.check_now()

    def due(self) -> bool:
        return self.clock() - self._last >= self.interval

    def poll(self) -> None:
        """Called often by the app; checks when due and only between sessions (attract or out of service)."""
        from kiosk.session.machine import State

        if self.session.state in (State.ATTRACT, State.OUT_OF_SERVICE) and self.due():
            self.check_now()
        if self.session.state is State.ATTRACT and self.clock() - self._last_catalog >= self.catalog_interval:
            self.sync_catalog()

    def sync_catalog(self) -> None:
        services = self.session.services
        store = getattr(services, "catalog_store", None)
        if store is None or self._syncing or not services.config.catalog.sync_from_portal:
            return
        self._syncing, self._last_catalog = True, self.clock()

        def done(changed: Any, error: BaseException | None) -> None:
            self._syncing = False
            if error is None and changed:
                from kiosk.messages.i18n import use_catalog

                services.catalog = store.current()  # used from the next session on
                use_catalog(services.catalog)  # and its English

        self.session.runner.submit(lambda: store.sync(services.portal.catalog), done)

    def check_now(self) -> None:
        if self._running:
            return
        self._running = True
        self._last = self.clock()
        services = self.session.services
        run = self._checks or _quick_checks
        self.session.runner.submit(lambda: run(services), self._done)

    def _done(self, checks: Any, error: BaseException | None) -> None:
        from kiosk.appliance.doctor import blocking_failure
        from kiosk.session.machine import State

        self._running = False
        if error is not None:
            log.error("health check failed to run: %s", type(error).__name__)
            return
        self.last_checks = checks
        reason = blocking_failure(checks)
        if reason != self.last_reason:
            log.warning("out of service: %s", reason) if reason else log.info("devices healthy again")
        self.last_reason = reason
        if reason and self.session.state is State.ATTRACT:
            self.session.send("out_of_service", reason=reason)
        elif not reason and self.session.state is State.OUT_OF_SERVICE and self.held_reason is None:
            self.session.send("back_in_service")


def _quick_checks(services: Any) -> list:
    from kiosk.appliance.doctor import quick_checks

    return quick_checks(services)
