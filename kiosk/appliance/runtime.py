"""What keeps a kiosk running around the citizen's session, without Kivy: the outbox sender, the device monitor
(out of service while a device is broken), the systemd watchdog ping, the fleet heartbeat and metrics, and the
restart policy (settings pushed by the portal take effect by restarting between sessions).

The UI drives it from its own loop: `start()` once the window is up, `every_second()` from a 1 s timer,
`stop()` on the way out. A UI that freezes stops calling `every_second()`, so the watchdog pings stop and
systemd restarts the kiosk.
"""
from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable

from kiosk.appliance import fleet, watchdog
from kiosk.appliance.monitor import HealthMonitor
from kiosk.outbox.store import Sender
from kiosk.portal.client import PortalClient
from kiosk.session.machine import Session, State

log = logging.getLogger(__name__)

#: The exit status that makes systemd start the kiosk again at once (RestartForceExitStatus=75).
EXIT_RESTART = 75
#: How often the restart policy looks for pushed settings (they wait for the kiosk to be idle).
RESTART_CHECK_SECONDS = 5.0


class Appliance:
    """The kiosk's background parts for one `Session`. `request_stop(exit_code)` is how it asks the UI to
    leave (a technician's restart or pushed settings); the UI calls `stop()` afterwards."""

    def __init__(self, services: Any, session: Session, *, request_stop: Callable[[int], None],
                 with_fleet: bool = True, clock: Callable[[], float] | None = None,
                 post: Callable[[Callable[[], None]], None] | None = None) -> None:
        """`post` runs a callable on the UI thread (Kivy: Clock.schedule_once); keypad actions arrive on the
        keypad's reader thread and are handed over through it. None calls directly (tests, no UI)."""
        import time

        self.services, self.session, self.request_stop = services, session, request_stop
        self.post = post or (lambda fn: fn())
        self.guide = self.keypad_controller = None
        self._keypad_unsubscribe: Callable[[], None] | None = None
        speech = getattr(services, "speech", None)
        if speech is not None:  # spoken guidance and the tactile keypad (issue 12)
            from kiosk.appliance.guide import Guide
            from kiosk.appliance.keypad_control import KeypadController

            self.guide = Guide(session, speech)
            self.keypad_controller = KeypadController(session, self.guide, speech)
        self._clock = clock or time.monotonic
        cfg = services.config
        # the outbox has its own client: it must never send as whichever citizen is logged in at the time
        self.sender = Sender(services.outbox, lambda: PortalClient.from_settings(cfg))
        self.monitor = HealthMonitor(session)
        self.watchdog = watchdog.Watchdog()
        self.fleet = None
        self.metrics = None
        if with_fleet:
            self.metrics = fleet.Metrics()
            self.metrics.watch(session)
            self.fleet = fleet.start_fleet(
                services, self.metrics, in_service=lambda: session.state is not State.OUT_OF_SERVICE,
                idle=self.idle)
        self._last_restart_check = self._clock()
        self._stopped = False
        self.sender.start()

    def idle(self) -> bool:
        """No citizen is in the middle of something."""
        return self.session.state in (State.ATTRACT, State.OUT_OF_SERVICE)

    def start(self) -> None:
        """The window is up: the start-up self-test (status only: no paper moves), then tell systemd."""
        self.monitor.check_now()
        self._start_keypad()
        watchdog.ready("kiosk ready")

    def _start_keypad(self) -> None:
        keypad = getattr(self.services, "keypad", None)
        if keypad is None or self.keypad_controller is None or self._keypad_unsubscribe is not None:
            return
        try:
            keypad.start()
        except Exception as e:  # noqa: BLE001 - the touch screen still works; the doctor reports the keypad
            log.warning("keypad not started: %s", type(e).__name__)
            return
        self._keypad_unsubscribe = self.keypad_controller.attach(keypad, self.post)

    def every_second(self) -> None:
        """From the UI loop: device health between sessions, the watchdog ping, the restart policy."""
        self.monitor.poll()
        if self.watchdog.enabled:
            self.watchdog.ping()
        now = self._clock()
        if now - self._last_restart_check >= RESTART_CHECK_SECONDS:
            self._last_restart_check = now
            self.restart_if_settings_changed()

    def restart_if_settings_changed(self) -> bool:
        if self.fleet is None or not self.fleet.sender.config_changed.is_set():
            return False
        if self.session.state is not State.ATTRACT:
            return False  # never in the middle of a citizen's session
        log.info("new settings from the portal: restarting between sessions")
        self.request_stop(EXIT_RESTART)
        return True

    def restart(self) -> None:
        """The technician's restart button."""
        self.request_stop(EXIT_RESTART)

    def stop(self) -> None:
        """On the way out (SIGTERM included): the outbox gets a last delivery round before the thread ends."""
        if self._stopped:
            return
        self._stopped = True
        if self._keypad_unsubscribe is not None:
            self._keypad_unsubscribe()
            self._keypad_unsubscribe = None
            self.services.keypad.stop()
        watchdog.stopping("flushing the outbox")
        if self.fleet is not None:
            self.fleet.stop()
        self.sender.stop()
