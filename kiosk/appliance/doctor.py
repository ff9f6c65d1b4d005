"""The self-test: `kiosk doctor` for technicians, and the cheap health checks the app runs at start-up and
between sessions (issue 3).

Each check answers one question a technician asks before leaving a kiosk in a commune: can it scan, print,
read a code, reach the portal, is its clock right, is anything stuck in the outbox, is the disk filling up.
A check runs on a daemon thread of its own and is given a deadline, so a hung driver (a SANE backend stuck in
a USB transfer, a printer that accepts the connection and never answers) becomes a failed `Check` instead of
a hung kiosk. No check raises: an exception becomes a failed `Check` naming the exception's type and its
(redacted) message. Details are technician text and never carry personal data: a code the reader saw is
described by its length, never by its content.

Public API:
    Check                                       one result (name, ok, severity, detail, seconds)
    run_checks(services, *, scan, print_slip, read_code, read_timeout) -> list[Check]
    quick_checks(services) -> list[Check]       status queries only, nothing moves paper
    blocking_failure(checks) -> str | None      why no session can start (scanner/printer/reader failed)
    simulated_devices(settings) -> list[str]    device kinds set to the simulated ("fake") driver
(`kiosk doctor` itself is kiosk.cli.doctor.)
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Literal
from collections.abc import Callable

from drivers.base import DeviceError, DeviceStatus, Health, NoDocuments, ScanSettings, ScanSource
from kiosk.appliance.logs import redact

__all__ = ["Check", "run_checks", "quick_checks", "blocking_failure", "simulated_devices", "CHECK_NAMES"]

log = logging.getLogger("kiosk.appliance.doctor")

Severity = Literal["ok", "warning", "failed"]
OK: Severity = "ok"
WARNING: Severity = "warning"
FAILED: Severity = "failed"

#: The order checks are reported in (tables, JSON).
CHECK_NAMES = ("scanner", "printer", "code_reader", "portal", "clock", "outbox", "disk", "speech", "keypad",
               "chip_reader")
#: Devices without which a citizen's session cannot finish: one of these failed puts the kiosk out of service.
SESSION_DEVICES = ("scanner", "printer", "code_reader")

WATCHDOG_GRACE = 1.0  # seconds allowed on top of a device's own timeout before the check gives up on it
STATUS_TIMEOUT_CAP = 15.0  # a status query never gets longer than this, whatever the device's timeout
READER_STATUS_TIMEOUT = 5.0
CHIP_STATUS_TIMEOUT = 8.0  # the NFC reader's status: pcscd's reader list and a card-presence poll (each capped)
LOCAL_CHECK_TIMEOUT = 5.0  # outbox (SQLite) and disk: local, but a wedged disk must not wedge the kiosk
UNIFORM_STDDEV = 2.0  # a scanned page whose grey levels vary less than this is "all one colour"
CLOCK_WARNING_SECONDS = 30.0
CLOCK_FAILED_SECONDS = 300.0  # receipts and one-time-code expiry (5 min) go wrong beyond this
OUTBOX_AGE_WARNING_SECONDS = 3600.0
DISK_WARNING_BYTES = 1_000_000_000
DISK_FAILED_BYTES = 100_000_000  # below this the outbox may not be able to keep a confirmed dossier

_SEVERITY_OF: dict[Health, Severity] = {Health.OK: OK, Health.WARNING: WARNING, Health.FAILED: FAILED}
_RANK: dict[str, int] = {OK: 0, WARNING: 1, FAILED: 2}


@dataclasses.dataclass(frozen=True)
class Check:
    """One self-test result. `ok` is False only when the check failed (a warning is still ok), matching
    `DeviceStatus.ok`; `detail` is technician text without personal data."""

    name: str
    severity: Severity
    detail: str = ""
    seconds: float = 0.0
    ok: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"severity must be ok, warning or failed, not {self.severity!r}")
        object.__setattr__(self, "ok", self.severity != FAILED)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "severity": self.severity, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


def _worst(*severities: Severity) -> Severity:
    return max(severities, key=_RANK.__getitem__)


# ---------------------------------------------------------------------------------------------- watchdog
class _Progress:
    """What a check is doing right now, so a timeout can say where the device stopped answering."""

    def __init__(self, say: Callable[[str], None] | None = None) -> None:
        self.step = "starting"
        self.say = say or (lambda line: None)  # tells the person at the kiosk what to do now (progress lines)


Outcome = tuple[Severity, str]
Probe = Callable[[_Progress], Outcome]


#: Probes abandoned while still running, by (check name, id of the device or service they talk to). The app
#: repeats quick checks between sessions; a driver hung for good must not collect one stuck thread per round.
_ABANDONED: dict[tuple[str, int], _Running] = {}
_ABANDONED_LOCK = threading.Lock()


class _Running:
    """A probe running on its own daemon thread (a hung driver call cannot be killed, only abandoned;
    a daemon thread does not keep the process alive at exit)."""

    def __init__(self, name: str, budget: float, probe: Probe, target: object,
                 report: Callable[[str], None] | None = None) -> None:
        self.name, self.budget, self.progress = name, budget, _Progress(report)
        self.report = report
        if report is not None:
            report(f"{name}: checking (up to {budget:.0f} s)")
        self.target = target  # held while abandoned, so its id cannot be reused by another object
        self.started = time.monotonic()
        self.finished: float | None = None
        self.future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        with _ABANDONED_LOCK:
            self.stuck = _ABANDONED.get(self._key())
            if self.stuck is not None and self.stuck.future.done():
                del _ABANDONED[self._key()]
                self.stuck = None
        if self.stuck is None:
            threading.Thread(target=self._run, args=(probe,), name=f"doctor-{name}", daemon=True).start()

    def _key(self) -> tuple[str, int]:
        return self.name, id(self.target)

    def _run(self, probe: Probe) -> None:
        self.future.set_running_or_notify_cancel()
        try:
            outcome = probe(self.progress)
        except BaseException as error:  # noqa: BLE001 - reported as a failed check, never raised
            self.finished = time.monotonic()
            self.future.set_exception(error)
        else:
            self.finished = time.monotonic()
            self.future.set_result(outcome)

    def result(self) -> Check:
        """Wait until the probe ends or its budget runs out; never raises."""
        check = self._result()
        if self.report is not None:
            self.report(f"{self.name}: {check.severity} in {check.seconds:.1f} s")
        return check

    def _result(self) -> Check:
        if self.stuck is not None:
            since = time.monotonic() - self.stuck.started
            return Check(self.name, FAILED, f"still no answer from an earlier check started {since:.0f} s ago "
                                            f"({self.stuck.progress.step}); the device or its driver is hung")
        remaining = self.started + self.budget - time.monotonic()
        concurrent.futures.wait([self.future], timeout=max(0.0, remaining))
        if not self.future.done():
            seconds = time.monotonic() - self.started
            with _ABANDONED_LOCK:
                _ABANDONED[self._key()] = self
            log.warning("doctor: %s gave no answer within %.1f s (%s)", self.name, self.budget, self.progress.step)
            return Check(self.name, FAILED,
                         f"no answer within {self.budget:.1f} s ({self.progress.step}); the device or its "
                         "driver is hung", seconds)
        seconds = (self.finished or time.monotonic()) - self.started
        error = self.future.exception()
        if error is None:
            severity, detail = self.future.result()
            return Check(self.name, severity, redact(detail), seconds)
        return Check(self.name, FAILED, f"{self.progress.step}: {_describe(error)}", seconds)


def _describe(error: BaseException) -> str:
    """An exception as technician text: its type (or device error kind) and message, redacted."""
    if isinstance(error, DeviceError):
        text = f"{error.kind}: {error.detail}"
    else:
        message = str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return redact(text)


def _status_text(status: DeviceStatus) -> str:
    kind = f"{status.error_kind}: " if status.error_kind else ""
    return f"status {status.health.value} ({kind}{status.detail or 'no detail'})"


# ---------------------------------------------------------------------------------------------- devices
def _scanner_probe(services: Any, scan: bool) -> Probe:
    section = services.config.scanner
    scanner = services.scanner

    def probe(progress: _Progress) -> Outcome:
        progress.step = "status query"
        status = scanner.status()
        severity, detail = _SEVERITY_OF[status.health], _status_text(status)
        if status.health is Health.FAILED or not scan:
            return severity, detail
        source = ScanSource(section.source)
        progress.step = f"test scan ({source.value})"
        try:
            pages = scanner.scan(_one_page(section, source), timeout=section.timeout)
        except NoDocuments:
            if source is not ScanSource.FEEDER:
                return WARNING, f"{detail}; nothing on the glass: put a printed page on it and run again"
            progress.step = "test scan (flatbed, the feeder was empty)"
            try:
                pages = scanner.scan(_one_page(section, ScanSource.FLATBED), timeout=section.timeout)
            except DeviceError:
                return WARNING, f"{detail}; feeder empty: put a printed page in the feeder and run again"
            source = ScanSource.FLATBED
        scan_severity, scan_detail = _judge_page(pages, source)
        return _worst(severity, scan_severity), f"{detail}; {scan_detail}"

    return probe


def _one_page(section: Any, source: ScanSource) -> ScanSettings:
    return ScanSettings(source=source, dpi=section.dpi, mode=section.mode, max_pages=1)


def _judge_page(pages: list, source: ScanSource) -> Outcome:
    """A scan works when a page came back with something on it: a dead lamp, a covered sensor or a broken
    cable gives a page of one flat colour."""
    from PIL import ImageStat

    if not pages:
        return FAILED, f"the {source.value} scan returned no page"
    page = pages[0]
    grey = page.image.convert("L")
    stats = ImageStat.Stat(grey)
    size = f"{grey.width}x{grey.height} px at {page.dpi} dpi ({source.value})"
    if stats.stddev[0] < UNIFORM_STDDEV:
        return FAILED, (f"scanned page {size} is all one colour (mean grey {stats.mean[0]:.0f}): check the "
                        "lamp, the sensor glass and the cable, and scan a printed page")
    return OK, f"scanned a page {size}"


def _printer_probe(services: Any, print_slip: bool) -> Probe:
    from kiosk.domain.receipt import test_slip_job

    printer = services.printer
    timeout = services.config.printer.timeout
    kiosk_id = services.config.kiosk.id

    def probe(progress: _Progress) -> Outcome:
        progress.step = "status query"
        status = printer.status()
        severity, detail = _SEVERITY_OF[status.health], _status_text(status)
        if status.health is Health.FAILED:
            return FAILED, f"{detail}; test slip not printed"
        if not print_slip:
            return severity, detail
        progress.step = "printing the test slip"
        job = test_slip_job(kiosk_id, printer.width_dots)
        sent = printer.print_job(job, timeout=timeout)
        return severity, f"{detail}; test slip printed ({len(sent)} bytes): check the ruler, the Vietnamese and the QR"

    return probe


def _reader_probe(services: Any, read_code: bool, read_timeout: float) -> Probe:
    from kiosk.domain.receipt import receipt_qr_payload

    reader = services.reader
    slip_payload = receipt_qr_payload(f"TEST-{services.config.kiosk.id}")

    def probe(progress: _Progress) -> Outcome:
        progress.step = "status query"
        status = reader.status()
        severity, detail = _SEVERITY_OF[status.health], _status_text(status)
        if status.health is Health.FAILED or not read_code:
            return severity, detail
        progress.step = f"waiting {read_timeout:.0f} s for a code"
        progress.say(f"code_reader: show a QR code to the reader now (the test slip's works); "
                     f"waiting {read_timeout:.0f} s")
        reader.start()
        try:
            code = reader.read(read_timeout)
            running = reader.status()  # while open, a camera also reports its frame rate and focus control
            if running.health is Health.OK and running.detail:
                detail = _status_text(running)
        finally:
            reader.stop()
        if code is None:
            # Nobody held a code up: the reader may be fine. Only the device's own report fails it.
            return _worst(severity, WARNING), (f"{detail}; no code read within {read_timeout:.0f} s: show any QR "
                                               "(the test slip's works) and run again")
        # The content may be a citizen's ID card: describe it, never show it.
        what = "the test slip's QR" if code.text.strip() == slip_payload else f"a code of {len(code.text)} characters"
        return severity, f"{detail}; read {what}"

    return probe


def _device_budget(services: Any, name: str, *, scan: bool, print_slip: bool, read_code: bool,
                   read_timeout: float) -> float:
    """The longest a device check may take: its status query, then its one action, plus a little grace."""
    config = services.config
    if name == "scanner":
        status = min(config.scanner.timeout, STATUS_TIMEOUT_CAP)
        # One scan's time: when the feeder is empty the flatbed fallback runs in what is left (an empty
        # feeder is reported at once).
        return status + (config.scanner.timeout if scan else 0.0) + WATCHDOG_GRACE
    if name == "printer":
        status = min(config.printer.timeout, STATUS_TIMEOUT_CAP)
        return status + (config.printer.timeout if print_slip else 0.0) + WATCHDOG_GRACE
    return READER_STATUS_TIMEOUT + (read_timeout if read_code else 0.0) + WATCHDOG_GRACE


def _accessibility_probe(services: Any, name: str) -> Probe:
    """Speech and keypad (issue 12): their status only; neither blocks a session (the touch screen works)."""
    device = getattr(services, name, None)

    def probe(progress: _Progress) -> Outcome:
        if device is None:
            return OK, f"no {name} configured ({name}.driver = \"none\")"
        progress.step = "status query"
        status = device.status()
        detail = f"{getattr(device, 'driver', '?')}: {_status_text(status)}"
        if name == "speech" and hasattr(device, "headphones_connected"):
            detail += "; headphones " + ("plugged in" if device.headphones_connected() else "not plugged in")
        return _SEVERITY_OF[status.health], detail

    return probe


def _chip_probe(services: Any) -> Probe:
    """The NFC reader for the chip ID card (issue 11): pcscd answering, the reader plugged in, the CSCA bundle
    loaded. Never blocks sessions: the chip is one door of four (the clerk can go on with the card's QR)."""
    device = getattr(services, "chip_reader", None)

    def probe(progress: _Progress) -> Outcome:
        if device is None:
            return OK, "no chip reader configured (chip_reader.driver = \"none\"): the chip door is not offered"
        progress.step = "status query (pcscd, reader, CSCA bundle)"
        status = device.status()
        detail = f"{getattr(device, 'driver', '?')}: {_status_text(status)}"
        if status.health is Health.FAILED:
            detail += ("; citizens can still log in with VNeID, and a clerk can go on with the ID card's QR. "
                       "Check that pcscd runs (systemctl status pcscd) and the reader is plugged in")
        return _SEVERITY_OF[status.health], detail

    return probe


# ---------------------------------------------------------------------------------------------- portal
class _PortalProbe:
    """One health call serves two checks: the portal (reachable, latency) and the clock (its time)."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.skew: float | None = None  # portal clock minus kiosk clock, seconds

    def __call__(self, progress: _Progress) -> Outcome:
        progress.step = f"GET {self.services.config.portal.url.rstrip('/')}/health"
        before = time.time()
        started = time.monotonic()
        health = self.services.portal.health()
        latency = time.monotonic() - started
        # The portal read its clock about half-way through the call; compare with the system clock (what
        # NTP sets and `services.now` derives from) at that moment.
        local = dt.datetime.fromtimestamp(before + latency / 2, dt.UTC)
        portal_time = health.time if health.time.tzinfo else health.time.replace(tzinfo=dt.UTC)
        self.skew = (portal_time - local).total_seconds()
        version = f", version {health.version}" if health.version else ""
        detail = f"{self.services.config.portal.url} answered {health.status!r} in {latency * 1000:.0f} ms{version}"
        return (OK if health.status == "ok" else WARNING), detail

    def clock_check(self, portal: Check) -> Check:
        if self.skew is None:
            return Check("clock", WARNING, "not compared: the portal did not answer (see portal)")
        skew = self.skew
        what = f"portal clock is {abs(skew):.1f} s {'ahead of' if skew >= 0 else 'behind'} this kiosk"
        if abs(skew) > CLOCK_FAILED_SECONDS:
            return Check("clock", FAILED, f"{what}: receipt times and one-time-code expiry are wrong; fix NTP "
                                          "(timedatectl status) or the BIOS clock")
        if abs(skew) > CLOCK_WARNING_SECONDS:
            return Check("clock", WARNING, f"{what}: check NTP (timedatectl status)")
        return Check("clock", OK, what)


def _portal_budget(services: Any) -> float:
    portal = services.config.portal
    return portal.connect_timeout + portal.read_timeout + WATCHDOG_GRACE


def _insecure_portal(services: Any, check: Check) -> Check:
    """Plain http:// to another machine is refused when the config loads; when a site allowed it
    (portal.allow_insecure_http, a closed test network), the portal line says so, as a warning at least."""
    from kiosk.portal.urls import insecure_url_refused

    portal = services.config.portal
    if not insecure_url_refused(portal.url, False) or not getattr(portal, "allow_insecure_http", False):
        return check
    return dataclasses.replace(check, severity=_worst(check.severity, WARNING),
                               detail=f"INSECURE: plain http:// to {portal.url} (portal.allow_insecure_http = true): "
                                      f"citizens' data crosses the network unencrypted; use https:// in service; "
                                      f"{check.detail}")


def _with_portal_note(check: Check) -> Check:
    """A portal outage does not stop sessions; the table must say so, or a technician may think it does."""
    if check.ok:
        return check
    return dataclasses.replace(check, detail=f"{check.detail} (not blocking: sessions go on and confirmed "
                                             "dossiers wait in the outbox)")


# ---------------------------------------------------------------------------------------------- local
def _outbox_probe(services: Any) -> Probe:
    outbox = services.outbox

    def probe(progress: _Progress) -> Outcome:
        progress.step = "reading the outbox"
        depth = outbox.depth()
        age = outbox.oldest_pending_age()
        rejected = len(outbox.items("rejected"))
        detail = f"{depth} dossier(s) waiting" + (f", oldest {_human_age(age)}" if age is not None else "")
        severity: Severity = OK
        if age is not None and age > OUTBOX_AGE_WARNING_SECONDS:
            severity, detail = WARNING, detail + ": not delivered for over an hour, check the portal link"
        if rejected:
            severity = WARNING
            detail += f"; {rejected} refused by the portal, see `kiosk outbox list`"
        if getattr(outbox, "master_source", "") == "file":
            detail += "; master key on the data disk (outbox.key; a systemd credential keeps it off)"
        return severity, detail

    return probe


def _disk_probe(services: Any) -> Probe:
    folder = Path(getattr(services.outbox, "dir", None) or services.config.kiosk.data_dir)

    def probe(progress: _Progress) -> Outcome:
        progress.step = f"free space in {folder}"
        usage = shutil.disk_usage(folder)
        detail = f"{usage.free / 1e9:.2f} GB free of {usage.total / 1e9:.1f} GB in {folder}"
        if usage.free < DISK_FAILED_BYTES:
            return FAILED, detail + ": the outbox may not be able to keep dossiers; free space now"
        if usage.free < DISK_WARNING_BYTES:
            return WARNING, detail + ": under 1 GB, run `kiosk outbox purge-delivered` and rotate logs"
        return OK, detail

    return probe


def _human_age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s old"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min old"
    return f"{seconds / 3600:.1f} h old"


# ---------------------------------------------------------------------------------------------- public API
def simulated_devices(settings: Any) -> list[str]:
    """The device kinds the config sets to the simulated driver ("fake"): no real device is used for them."""
    return [kind for kind in SESSION_DEVICES if getattr(getattr(settings, kind, None), "driver", "") == "fake"]


def _simulated(check: Check) -> Check:
    """A simulated device is never simply ok: the doctor line says, as a warning, that nothing real was tested."""
    return dataclasses.replace(check, severity=_worst(check.severity, WARNING),
                               detail=f"SIMULATED (driver \"fake\": no real {check.name} is used); {check.detail}")


def run_checks(services: Any, *, scan: bool = True, print_slip: bool = True, read_code: bool = True,
               read_timeout: float = 5.0, report: Callable[[str], None] | None = None) -> list[Check]:
    """Every check, in `CHECK_NAMES` order. Never raises; each check has its own deadline. `report`, when
    given, gets a progress line as each check starts and finishes, and when someone must show a code.

    The portal, outbox and disk checks run in the background while the devices are tested one after the
    other: printer first, so the technician can show the test slip's QR to the code reader (and feed the
    slip to the scanner).
    """
    portal_probe = _PortalProbe(services)
    background = {
        "portal": _Running("portal", _portal_budget(services), portal_probe, services.portal, report),
        "outbox": _Running("outbox", LOCAL_CHECK_TIMEOUT, _outbox_probe(services), services.outbox, report),
        "disk": _Running("disk", LOCAL_CHECK_TIMEOUT, _disk_probe(services), services.outbox, report),
    }
    probes: dict[str, tuple[Probe, object]] = {
        "printer": (_printer_probe(services, print_slip), services.printer),
        "code_reader": (_reader_probe(services, read_code, read_timeout), services.reader),
        "scanner": (_scanner_probe(services, scan), services.scanner),
    }
    results: dict[str, Check] = {}
    for name, (probe, device) in probes.items():
        budget = _device_budget(services, name, scan=scan, print_slip=print_slip, read_code=read_code,
                                read_timeout=read_timeout)
        results[name] = _Running(name, budget, probe, device, report).result()
    for name in ("speech", "keypad"):
        results[name] = _Running(name, STATUS_TIMEOUT_CAP, _accessibility_probe(services, name),
                                 getattr(services, name, None), report).result()
    results["chip_reader"] = _Running("chip_reader", CHIP_STATUS_TIMEOUT + WATCHDOG_GRACE, _chip_probe(services),
                                      getattr(services, "chip_reader", None), report).result()
    for name in simulated_devices(services.config):
        results[name] = _simulated(results[name])
    if getattr(getattr(services, "chip_reader", None), "driver", "") == "fake":
        results["chip_reader"] = _simulated(results["chip_reader"])
    for name, running in background.items():
        results[name] = running.result()
    results["portal"] = _insecure_portal(services, _with_portal_note(results["portal"]))
    results["clock"] = portal_probe.clock_check(results["portal"])
    checks = [results[name] for name in CHECK_NAMES]
    for check in checks:
        level = logging.DEBUG if check.severity == OK else logging.WARNING  # quick checks run every session
        log.log(level, "doctor: %s %s in %.2f s: %s", check.name, check.severity, check.seconds, check.detail)
    return checks


def quick_checks(services: Any) -> list[Check]:
    """The cheap checks for start-up and between sessions: status queries and the portal's health; no paper
    moves and nobody needs to show a code."""
    return run_checks(services, scan=False, print_slip=False, read_code=False)


def blocking_failure(checks: list[Check]) -> str | None:
    """Why no session may start (a device every session needs has failed), as technician text for the
    out-of-service screen; None when sessions can run. A portal outage never blocks: the outbox keeps dossiers."""
    failed = [c for c in checks if c.name in SESSION_DEVICES and not c.ok]
    if not failed:
        return None
    return "; ".join(f"{c.name}: {c.detail}" for c in failed)


# ---------------------------------------------------------------------------------------------- command
class _Unavailable:
    """Stands in for a device that could not even be built (unknown driver, missing library), so the
    doctor still reports on everything else."""

    driver = "unavailable"

    def __init__(self, kind: str, error: BaseException) -> None:
        self.kind, self.error = kind, error

    def status(self) -> DeviceStatus:
        return DeviceStatus(Health.FAILED, f"cannot build the {self.kind} driver: {_describe(self.error)}",
                            "device_gone")

    def close(self) -> None:
        pass


def _build_devices(settings: Any) -> dict[str, Any]:
    from drivers import registry

    devices: dict[str, Any] = {}
    for keyword, kind, section in (("scanner", "scanner", settings.scanner), ("printer", "printer", settings.printer),
                                   ("reader", "code_reader", settings.code_reader)):
        try:
            devices[keyword] = registry.build(kind, section)
        except Exception as error:  # noqa: BLE001 - shown as that device's failed check
            devices[keyword] = _Unavailable(kind, error)
    for kind in ("speech", "keypad", "chip_reader"):  # issues 12 and 11
        section = getattr(settings, kind, None)
        if section is None:
            continue
        try:
            devices[kind] = registry.build(kind, section)
        except Exception as error:  # noqa: BLE001 - shown as that device's failed check
            devices[kind] = _Unavailable(kind, error)
    return devices


def format_table(checks: list[Check]) -> str:
    """The checks as a table for people: name, status, seconds, detail; then what it means for sessions."""
    rows = [("CHECK", "STATUS", "SECONDS", "DETAIL")]
    rows += [(c.name, c.severity.upper(), f"{c.seconds:.2f}", c.detail) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}" for r in rows]
    reason = blocking_failure(checks)
    if reason:
        lines.append(f"\nOUT OF SERVICE: no session can start until this is fixed: {reason}")
    elif any(not c.ok for c in checks):
        lines.append("\nSessions can run, but something failed: see above.")
    elif any(c.severity == WARNING for c in checks):
        lines.append("\nAll checks passed, with warnings.")
    else:
        lines.append("\nAll checks passed.")
    return "\n".join(lines)


def _close_within(services: Any, seconds: float) -> None:
    """Release the devices, but do not let a driver still stuck in a hung call keep the command from ending."""
    closing = threading.Thread(target=services.close, name="doctor-close", daemon=True)
    closing.start()
    closing.join(seconds)
    if closing.is_alive():
        log.warning("doctor: devices did not close within %.0f s; leaving them to the process exit", seconds)
