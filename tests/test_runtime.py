"""The appliance around the session, without Kivy: the outbox sender delivers what citizens confirmed, the
device monitor takes the kiosk out of service between sessions, and pushed settings restart it only when idle."""
from __future__ import annotations

import threading
import time

from kiosk.appliance.runtime import EXIT_RESTART, Appliance
from kiosk.outbox.store import DELIVERED
from kiosk.sandbox.faults import FaultConfig
from kiosk.session.machine import State
from session_fixtures import Kiosk, kiosk, portal, sandbox_server, shared_outbox  # noqa: F401  (fixtures)


class _PushedSettings:
    """Stands in for the fleet's heartbeat sender: the portal answered with a new settings version."""

    def __init__(self) -> None:
        self.sender = type("S", (), {"config_changed": threading.Event()})()
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_pushed_settings_restart_the_kiosk_only_between_sessions(kiosk: Kiosk) -> None:
    stops: list[int] = []
    appliance = Appliance(kiosk.services, kiosk.session, request_stop=stops.append, with_fleet=False)
    try:
        appliance.fleet = _PushedSettings()
        assert not appliance.restart_if_settings_changed()  # nothing pushed
        appliance.fleet.sender.config_changed.set()
        kiosk.to_form()
        assert not appliance.restart_if_settings_changed() and stops == []  # a citizen is typing
        kiosk.send("cancel")
        kiosk.settle()
        assert kiosk.state is State.ATTRACT
        assert appliance.restart_if_settings_changed() and stops == [EXIT_RESTART]
    finally:
        appliance.stop()
    assert appliance.fleet.stopped


def test_a_dossier_left_undelivered_is_sent_by_the_appliance(kiosk: Kiosk) -> None:
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("reset",), paths=("/api/v1/blobs", "/api/v1/dossiers")))
    kiosk.to_submitting()
    kiosk.runner.run_next()  # portal failing: saved, not delivered, offline receipt
    ref = kiosk.data.local_reference
    assert kiosk.state is State.DONE and not kiosk.data.delivered
    kiosk.sandbox.set_faults(None)
    appliance = Appliance(kiosk.services, kiosk.session, request_stop=lambda code: None, with_fleet=False)
    try:
        appliance.sender.wake()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and kiosk.services.outbox.get(ref).state != DELIVERED:
            time.sleep(0.1)
    finally:
        appliance.stop()
    assert kiosk.services.outbox.get(ref).state == DELIVERED


def test_a_broken_device_between_sessions_takes_the_kiosk_out_of_service(kiosk: Kiosk) -> None:
    appliance = Appliance(kiosk.services, kiosk.session, request_stop=lambda code: None, with_fleet=False)
    try:
        kiosk.printer.set_fault("gone")
        appliance.start()  # the start-up self-test runs on the session's runner
        kiosk.runner.run_all()
        assert kiosk.state is State.OUT_OF_SERVICE
        kiosk.printer.set_fault("")
        appliance.monitor.interval = 0
        appliance.every_second()
        kiosk.runner.run_all()
        assert kiosk.state is State.ATTRACT
    finally:
        appliance.stop()
