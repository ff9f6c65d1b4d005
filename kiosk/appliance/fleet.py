"""Fleet health: a heartbeat to the portal every minute and a Prometheus metrics endpoint on loopback.

A province runs hundreds of kiosks nobody watches; both channels tell the fleet which one needs a visit
before citizens complain. Neither carries personal data: counts, device kinds and health, ages, versions and
error *kinds* only (the heartbeat schema, kiosk.portal.client.Heartbeat, has no field that could hold more).
Neither may hurt a citizen's session: every failure is logged and swallowed, and device health is queried by
the heartbeat thread once a minute, never on a scrape or the UI thread.

    Metrics()                                    counters the app bumps (.watch(session) does it for you)
    FleetMonitor(services, metrics)              .refresh_devices(), .heartbeat() -> Heartbeat
    HeartbeatSender(monitor, portal_factory, credentials_path)   .start(), .send_once() -> bool, .stop()
    start_metrics_server(monitor, host, port) -> MetricsServer   .url, .port, .stop()
    start_fleet(services, metrics) -> Fleet      both of the above from the configuration; .stop()
    load_credentials(path) / save_credentials(path, credentials)
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from pydantic import ValidationError

from kiosk import __version__
from kiosk.portal.client import DeviceHealthReport, Heartbeat, KioskCredentials, PortalError, SettingsReport

log = logging.getLogger("kiosk.appliance.fleet")

HEARTBEAT_SECONDS = 60.0
METRICS_HOST = "127.0.0.1"
METRICS_PORT = 9108
DEFAULT_CREDENTIALS = Path("/etc/dvc-kiosk/credentials.json")
_HEALTH_VALUES = ("ok", "warning", "failed")


# ---------------------------------------------------------------------------------------------- credentials
def load_credentials(path: Path | str) -> KioskCredentials | None:
    """The kiosk's portal credentials, or None when the file is missing or unusable (logged, never raised)."""
    try:
        return KioskCredentials.model_validate_json(Path(path).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as e:
        log.warning("portal credentials in %s are unusable: %s", path, type(e).__name__)
        return None


def save_credentials(path: Path | str, credentials: KioskCredentials, *, owner: tuple[int, int] | None = None) -> None:
    """Write the credentials atomically with mode 0600 (and `owner` uid/gid when given): the token is a secret."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(credentials.model_dump_json(indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # the umask cannot widen it, but an existing tmp file kept its mode
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def credentials_path(settings: Any) -> Path:
    return Path(settings.portal.credentials_file) if settings.portal.credentials_file else DEFAULT_CREDENTIALS


# ---------------------------------------------------------------------------------------------- counters
class Metrics:
    """The app's counters: sessions started, dossiers submitted, the last error kind. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sessions_total = 0
        self.dossiers_submitted_total = 0
        self.last_error_kind = ""

    def session_started(self) -> None:
        with self._lock:
            self.sessions_total += 1

    def dossier_submitted(self) -> None:
        with self._lock:
            self.dossiers_submitted_total += 1

    def record_error(self, kind: str) -> None:
        """Remember the kind of the latest failure (a machine name such as 'paper_out', never message text)."""
        with self._lock:
            self.last_error_kind = str(kind)[:64]

    def watch(self, session: Any) -> None:
        """Count from a kiosk.session.machine.Session's transitions: leaving attract for a citizen step starts a
        session, reaching done is a submitted dossier, and each new error shown is remembered by kind."""
        seen = {"state": _state_name(session), "error": None}

        def on_change(s: Any) -> None:
            state, previous = _state_name(s), seen["state"]
            if state != previous:
                if previous == "attract" and state not in ("attract", "out_of_service"):
                    self.session_started()
                if state == "done":
                    self.dossier_submitted()
                seen["state"] = state
            error = getattr(getattr(s, "data", None), "error", None)
            if error is not None and error is not seen["error"]:
                self.record_error(getattr(error, "kind", "error"))
            seen["error"] = error

        session.subscribe(on_change)


def _state_name(session: Any) -> str:
    state = getattr(session, "state", "")
    return str(getattr(state, "value", state))


# ---------------------------------------------------------------------------------------------- monitor
class FleetMonitor:
    """What the heartbeat and the metrics endpoint report, gathered from the kiosk's services.

    Device health is cached: `refresh_devices()` (the heartbeat thread, once a minute) queries each device's
    `status()`; scrapes and heartbeats read the cache, so a slow driver never stalls either. It queries only
    while `idle()` says no citizen is using the kiosk, so a status query never races a scan or a print.
    """

    def __init__(self, services: Any, metrics: Metrics | None = None, *,
                 in_service: Callable[[], bool] = lambda: True, idle: Callable[[], bool] = lambda: True,
                 version: str = __version__, clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.metrics = metrics or Metrics()
        self.in_service = in_service
        self.idle = idle
        self.version = version
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._devices: list[DeviceHealthReport] = []

    def refresh_devices(self) -> list[DeviceHealthReport]:
        """Ask every device for its status (cheap, no paper moves); a device that raises counts as failed.
        While a citizen is in a session the last known health is kept instead."""
        if self._devices and not _safe_bool(self.idle):
            return self.devices()
        reports = []
        for kind, device in self.services.devices().items():
            driver = str(getattr(device, "driver", ""))[:32]
            try:
                status = device.status()
                health = str(getattr(status.health, "value", status.health))
                reports.append(DeviceHealthReport(kind=kind, driver=driver,
                                                  health=health if health in _HEALTH_VALUES else "failed",
                                                  error_kind=str(status.error_kind or "")[:64]))
            except Exception as e:  # noqa: BLE001 - a broken driver is a failed device, not a dead monitor
                reports.append(DeviceHealthReport(kind=kind, driver=driver, health="failed",
                                                  error_kind=str(getattr(e, "kind", "") or "status_failed")[:64]))
        with self._lock:
            self._devices = reports
        return reports

    def devices(self) -> list[DeviceHealthReport]:
        with self._lock:
            return list(self._devices)

    def outbox_figures(self) -> tuple[int, float | None]:
        """(pending dossiers, age in seconds of the oldest); (0, None) when the outbox cannot be read."""
        outbox: Any = getattr(self.services, "outbox", None)
        try:
            return int(outbox.depth()), outbox.oldest_pending_age()
        except Exception as e:  # noqa: BLE001
            log.warning("fleet: cannot read the outbox: %s", type(e).__name__)
            return 0, None

    def uptime(self) -> float:
        return max(0.0, self._clock() - self._started)

    def settings_report(self) -> SettingsReport:
        """Which pushed settings run, and a pushed version rolled back after a failed start (never raises)."""
        from kiosk.appliance import remote_config

        try:
            return SettingsReport(**remote_config.status(self.services.config.kiosk.data_dir))
        except Exception as e:  # noqa: BLE001
            log.warning("fleet: cannot read the settings status: %s", type(e).__name__)
            return SettingsReport()

    def heartbeat(self) -> Heartbeat:
        depth, oldest = self.outbox_figures()
        try:
            in_service = bool(self.in_service())
        except Exception:  # noqa: BLE001
            in_service = False
        return Heartbeat(
            sent_at=dt.datetime.now(dt.UTC), app_version=self.version, uptime_seconds=round(self.uptime(), 1),
            in_service=in_service, devices=self.devices(), outbox_depth=depth,
            outbox_oldest_seconds=None if oldest is None else round(oldest, 1),
            sessions_total=self.metrics.sessions_total,
            dossiers_submitted_total=self.metrics.dossiers_submitted_total,
            last_error_kind=self.metrics.last_error_kind, settings=self.settings_report())

    # prometheus_client custom collector protocol: called on every scrape.
    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

        yield GaugeMetricFamily("kiosk_up", "1 while the kiosk app runs.", value=1)
        yield GaugeMetricFamily("kiosk_in_service", "1 when citizens can use the kiosk, 0 when out of service.",
                                value=1 if _safe_bool(self.in_service) else 0)
        depth, oldest = self.outbox_figures()
        yield GaugeMetricFamily("kiosk_outbox_depth", "Confirmed dossiers not yet delivered to the portal.",
                                value=depth)
        yield GaugeMetricFamily("kiosk_outbox_oldest_seconds",
                                "Age of the oldest undelivered dossier (0 when none waits).", value=oldest or 0.0)
        ok = GaugeMetricFamily("kiosk_device_ok", "1 when the device is usable (ok or warning), else 0.",
                               labels=["kind"])
        for report in self.devices():
            ok.add_metric([report.kind], 0 if report.health == "failed" else 1)
        yield ok
        yield CounterMetricFamily("kiosk_sessions", "Citizen sessions started.", value=self.metrics.sessions_total)
        yield CounterMetricFamily("kiosk_dossiers_submitted", "Dossiers confirmed and submitted.",
                                  value=self.metrics.dossiers_submitted_total)
        yield GaugeMetricFamily("kiosk_uptime_seconds", "Seconds since the kiosk app started.", value=self.uptime())
        yield InfoMetricFamily("kiosk_build", "The kiosk software version.", value={"version": self.version})


def _safe_bool(fn: Callable[[], bool]) -> bool:
    try:
        return bool(fn())
    except Exception:  # noqa: BLE001
        return False


# ---------------------------------------------------------------------------------------------- heartbeat
class HeartbeatSender:
    """Posts `monitor.heartbeat()` every `interval` seconds on a daemon thread. Never raises; without
    credentials (the kiosk was not provisioned) it still refreshes device health for the metrics."""

    def __init__(self, monitor: FleetMonitor, portal_factory: Callable[[], Any], credentials_path: Path | str, *,
                 interval: float = HEARTBEAT_SECONDS, data_dir: Path | str | None = None) -> None:
        self.monitor = monitor
        self.data_dir = data_dir  # where settings pushed by the portal are kept (None: not pulled)
        self.config_changed = threading.Event()  # new settings saved: the app restarts between sessions
        self.portal_factory = portal_factory
        self.credentials_path = Path(credentials_path)
        self.interval = interval
        self.sent = 0
        self.failed = 0
        self.last_error = ""
        self._portal: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned_unregistered = False

    def send_once(self) -> bool:
        """Refresh device health and post one heartbeat; True when the portal acknowledged it."""
        try:
            self.monitor.refresh_devices()
            credentials = load_credentials(self.credentials_path)
            if credentials is None:
                if not self._warned_unregistered:
                    log.warning("fleet: no portal credentials in %s; heartbeats are off until `kiosk provision`",
                                self.credentials_path)
                    self._warned_unregistered = True
                self.last_error = "not_registered"
                return False
            if self._portal is None:
                self._portal = self.portal_factory()
            ack = self._portal.heartbeat(self.monitor.heartbeat(), kiosk_token=credentials.kiosk_token)
        except PortalError as e:
            self.failed += 1
            self.last_error = e.code
            log.warning("fleet: heartbeat not delivered: %s", e.code)
            return False
        except Exception as e:  # noqa: BLE001 - the heartbeat must never take the kiosk down
            self.failed += 1
            self.last_error = type(e).__name__
            log.exception("fleet: heartbeat round failed")
            return False
        self.sent += 1
        self.last_error = ""
        next_in = getattr(ack, "next_heartbeat_seconds", None)
        if isinstance(next_in, int) and 10 <= next_in <= 3600 and self.interval >= 10:
            self.interval = float(next_in)  # the portal may ask a busy fleet to slow down
        self._pull_config(getattr(ack, "config_version", 0), credentials.kiosk_token)
        return True

    def _pull_config(self, version: int, kiosk_token: str) -> None:
        """The portal holds newer settings for this kiosk: fetch, check and keep them (never raises)."""
        from kiosk.appliance import remote_config
        if self.data_dir is None or not isinstance(version, int) or version <= remote_config.known_version(
                self.data_dir):
            return  # nothing newer (a version rolled back after a failed start is never fetched again)
        try:
            pushed = self._portal.kiosk_config(kiosk_token=kiosk_token)
            if remote_config.apply(self.data_dir, pushed.version, pushed.settings):
                self.config_changed.set()
        except Exception as e:  # noqa: BLE001 - keep the settings we have
            log.warning("fleet: settings from the portal not applied: %s", getattr(e, "code", type(e).__name__))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="fleet-heartbeat", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._portal is not None:
            try:
                self._portal.close()
            except Exception:  # noqa: BLE001
                pass
            self._portal = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.send_once()
            self._stop.wait(self.interval)


# ---------------------------------------------------------------------------------------------- metrics server
class MetricsServer:
    """The Prometheus endpoint (text format at /metrics), on its own daemon thread."""

    def __init__(self, httpd: Any, thread: threading.Thread) -> None:
        self._httpd, self._thread = httpd, thread
        self.host, self.port = httpd.server_address[0], httpd.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def start_metrics_server(monitor: FleetMonitor, host: str = METRICS_HOST, port: int = METRICS_PORT) -> MetricsServer:
    """Serve `monitor`'s metrics (plus the process's own) on host:port; port 0 picks a free one. Loopback by
    default: a fleet's Prometheus reaches it through an SSH tunnel or a node agent, never the hall's network."""
    from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(monitor)
    ProcessCollector(registry=registry)
    httpd, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(httpd, thread)


# ---------------------------------------------------------------------------------------------- together
class Fleet:
    """The running heartbeat and metrics endpoint of one kiosk app; `stop()` ends both."""

    def __init__(self, monitor: FleetMonitor, sender: HeartbeatSender, server: MetricsServer | None) -> None:
        self.monitor, self.sender, self.server = monitor, sender, server

    def stop(self) -> None:
        self.sender.stop()
        if self.server is not None:
            self.server.stop()


def start_fleet(services: Any, metrics: Metrics | None = None, *, in_service: Callable[[], bool] = lambda: True,
                idle: Callable[[], bool] = lambda: True, metrics_port: int = METRICS_PORT,
                interval: float = HEARTBEAT_SECONDS) -> Fleet:
    """Start the heartbeat and the metrics endpoint for the app. `in_service`: citizens can use the kiosk;
    `idle`: no session is running (devices may be queried). A port already in use disables metrics (logged);
    the heartbeat still runs."""
    from kiosk.portal.client import PortalClient

    settings = services.config
    monitor = FleetMonitor(services, metrics, in_service=in_service, idle=idle)

    sender = HeartbeatSender(monitor, lambda: PortalClient.from_settings(settings), credentials_path(settings),
                             interval=interval,
                             data_dir=settings.kiosk.data_dir)
    server = None
    try:
        server = start_metrics_server(monitor, port=metrics_port)
    except OSError as e:
        log.warning("fleet: metrics endpoint not started on %s:%d: %s", METRICS_HOST, metrics_port, e.strerror or e)
    sender.start()
    return Fleet(monitor, sender, server)


__all__ = ["Metrics", "FleetMonitor", "HeartbeatSender", "MetricsServer", "Fleet", "start_metrics_server",
           "start_fleet", "load_credentials", "save_credentials", "credentials_path", "HEARTBEAT_SECONDS",
           "METRICS_PORT"]
