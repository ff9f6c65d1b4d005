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

from kiosk.appliance import watchdog
from kiosk.appliance.monitor import HealthMonitor
from kiosk.outbox.store import Sender
from kiosk.session.machine import Session, State

log = logging.getLogger(__name__)

#: The exit status that makes systemd start the kiosk again at once (RestartForceExitStatus=75).
EXIT_RESTART = 75
#: How often the restart policy looks for pushed settings (they wait for the kiosk to be idle).
RESTART_CHECK_SECONDS = 5.0


def start_services(load: Callable[..., Any] | None = None, build: Callable[[Any], Any] | None = None) -> Any:
    """Load the settings and build the services (the devices open here). When that fails while settings pushed
    by the portal are in use that never started before, go back to the last known good settings
    (kiosk.appliance.remote_config.fall_back: the heartbeat reports it, the failed version is never fetched
    again) and try once more; a second failure is raised, and systemd's start limit stops the unit instead of
    a restart loop. A start that succeeds makes the settings in use the last known good ones.

    `load` is kiosk.appliance.config.load or one taking the same keywords; `build` kiosk.appliance.services.build."""
    from kiosk.appliance import config, remote_config
    from kiosk.appliance import services as services_mod

    load = load or config.load
    build = build or services_mod.build
    try:
        settings = load()
        svc = build(settings)
    except Exception as e:  # noqa: BLE001 - any failure to start with pushed settings is a reason to fall back
        reason = str(getattr(e, "code", "") or type(e).__name__)
        try:
            data_dir = load(_ignore_remote=True).kiosk.data_dir
        except Exception:  # noqa: BLE001 - the site file itself is broken: nothing pushed to undo
            raise e from None
        if not remote_config.fall_back(data_dir, reason):
            raise
        log.error("the kiosk did not start with the settings pushed by the portal (%s); starting with the last "
                  "known good settings", reason)
        settings = load()
        svc = build(settings)
    remote_config.mark_good(settings.kiosk.data_dir)
    return svc


def portal_client(settings: Any) -> Any:
    """A kiosk.portal.client.PortalClient for the configured portal, imported at first use (httpx and the portal's
    models are not needed to show the attract screen)."""
    from kiosk.portal.client import PortalClient

    return PortalClient.from_settings(settings)


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
        self.sender = Sender(services.outbox, lambda: portal_client(cfg))
        self.monitor = HealthMonitor(session)
        self.watchdog = watchdog.Watchdog()
        self.fleet = None
        self.metrics = None
        if with_fleet:
            from kiosk.appliance import fleet

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
