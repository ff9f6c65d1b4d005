"""The self-test (`kiosk doctor`, start-up and between-session checks) against the sandbox portal on loopback,
the fake devices with injected faults, and SANE's real `test` backend.

What a technician or the app would notice: which check failed and why, that nothing was printed on an empty
roll, that a hung driver costs its timeout and not the kiosk, that a portal outage is reported but does not put
the kiosk out of service, and what `kiosk doctor` prints and returns.
"""
from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections import namedtuple
from pathlib import Path
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from PIL import Image

from drivers.base import DeviceStatus, NoDocuments, ScannedPage, ScanSettings
from drivers.fakes.printer import FakePrinter
from drivers.fakes.reader import FakeCodeReader
from drivers.fakes.scanner import FakeScanner
from kiosk.appliance import config
from kiosk.appliance.doctor import CHECK_NAMES, WATCHDOG_GRACE, Check, blocking_failure, quick_checks, run_checks
from kiosk.portal.models import DossierSubmission
from kiosk.outbox.store import Outbox
from kiosk.domain.receipt import receipt_qr_payload
from kiosk.sandbox.faults import FaultConfig
from kiosk.sandbox.server import SandboxHandle, start_sandbox
from kiosk.appliance.services import Services, build

KIOSK_ID = "KIOSK-TEST-07"
SLIP_QR = receipt_qr_payload(f"TEST-{KIOSK_ID}")  # what the printed test slip's QR carries
SANE_DIR = Path(__file__).parent / "sane"
# A synthetic chip-ID-card QR (shared/domain.md): personal data that must never reach a detail or a log.
ID_CARD_QR = "001099012345|123456789|Nguyễn Văn An|01011990|Nam|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|15082021"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_sandbox(tmp_path_factory.mktemp("portal") / "portal.sqlite3", port=0)
    yield handle
    handle.stop()


@pytest.fixture
def portal(sandbox: SandboxHandle, tmp_path: Path) -> SandboxHandle:
    """The shared sandbox, emptied: no faults, clock back to real time."""
    sandbox.reset(tmp_path / "portal.sqlite3")
    return sandbox


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def make_services(portal: SandboxHandle, tmp_path: Path) -> Iterator[Callable[..., Services]]:
    made: list[Services] = []

    def make(*, url: str | None = None, scanner=None, printer=None, reader=None,
             sections: dict | None = None) -> Services:
        """Services on the fakes (or the devices given); `sections` overrides config sections."""
        sections = dict(sections or {})
        sections["scanner"] = {"driver": "sane", "dpi": 100, **sections.get("scanner", {})}  # small pages: fast tests
        # Real drivers in the config (the fakes stand in for them): a "fake" driver is reported as simulated.
        sections["printer"] = {"driver": "escpos", **sections.get("printer", {})}
        sections["code_reader"] = {"driver": "hid", "device": "/dev/input/event0", **sections.get("code_reader", {})}
        sections.setdefault("chip_reader", {"driver": "none"})  # the chip reader's checks are below
        settings = config.load(portal={"url": url or portal.url, "connect_timeout": 1.0, "read_timeout": 2.0},
                               kiosk={"id": KIOSK_ID, "data_dir": str(tmp_path / "data")}, **sections)
        services = build(settings, scanner=scanner or FakeScanner(delay=0.0),
                         printer=printer or FakePrinter(), reader=reader or FakeCodeReader([SLIP_QR], delay=0.0))
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


# ----------------------------------------------------------------------------------------- everything well
def test_all_checks_pass_and_the_slip_is_printed_and_a_page_scanned(make_services) -> None:
    scanner, printer = FakeScanner(delay=0.0, pages=2), FakePrinter()
    services = make_services(scanner=scanner, printer=printer)

    checks = run_checks(services, read_timeout=2.0)

    assert [c.name for c in checks] == list(CHECK_NAMES)
    assert [c.name for c in checks if c.severity != "ok"] == []
    assert all(c.ok and c.seconds >= 0 for c in checks)
    assert len(printer.jobs) == 1  # the test slip came out
    assert scanner.pages_in_feeder == 1  # one real sheet went through the scanner
    results = by_name(checks)
    assert "test slip" in results["code_reader"].detail  # the slip's own QR closes the loop printer -> reader
    assert "ms" in results["portal"].detail
    assert blocking_failure(checks) is None


def test_quick_checks_move_no_paper_and_wait_for_no_code(make_services) -> None:
    scanner, printer, reader = FakeScanner(delay=0.0, pages=2), FakePrinter(), FakeCodeReader([SLIP_QR], delay=0.0)
    services = make_services(scanner=scanner, printer=printer, reader=reader)

    started = time.monotonic()
    checks = quick_checks(services)

    assert time.monotonic() - started < 2.0
    assert all(c.severity == "ok" for c in checks), checks
    assert printer.jobs == [] and scanner.pages_in_feeder == 2
    assert reader.read(0.0) is not None  # the queued code was not consumed


# ----------------------------------------------------------------------------------------- printer
def test_printer_out_of_paper_fails_and_prints_nothing(make_services) -> None:
    printer = FakePrinter(fault="paper_out")
    checks = run_checks(make_services(printer=printer), scan=False, read_code=False)

    check = by_name(checks)["printer"]
    assert check.severity == "failed" and not check.ok
    assert "paper" in check.detail
    assert printer.jobs == []
    reason = blocking_failure(checks)
    assert reason is not None and reason.startswith("printer:")


def test_printer_paper_low_warns_but_still_prints_the_slip(make_services) -> None:
    printer = FakePrinter(fault="paper_low")
    check = by_name(run_checks(make_services(printer=printer), scan=False, read_code=False))["printer"]
    assert check.severity == "warning" and check.ok
    assert len(printer.jobs) == 1


def test_no_print_checks_the_printer_status_only(make_services) -> None:
    printer = FakePrinter()
    checks = run_checks(make_services(printer=printer), scan=False, print_slip=False, read_code=False)
    check = by_name(checks)["printer"]
    assert check.severity == "ok"
    assert printer.jobs == []


# ----------------------------------------------------------------------------------------- scanner
def test_scanner_unplugged_during_the_test_scan_fails_and_blocks_sessions(make_services) -> None:
    checks = run_checks(make_services(scanner=FakeScanner(delay=0.0, fault="gone")), print_slip=False, read_code=False)
    check = by_name(checks)["scanner"]
    assert check.severity == "failed"
    assert "device_gone" in check.detail
    assert "scanner" in (blocking_failure(checks) or "")


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> float:
    """The watchdog's grace on top of a device's own timeout, short in tests (the kiosk keeps its 1 s)."""
    from kiosk.appliance import doctor

    monkeypatch.setattr(doctor, "WATCHDOG_GRACE", 0.2)
    return 0.2


def test_hung_scanner_fails_within_its_timeout(make_services, short_grace) -> None:
    services = make_services(scanner=FakeScanner(delay=0.0, fault="hang"), sections={"scanner": {"timeout": 1.1}})
    started = time.monotonic()
    check = by_name(run_checks(services, print_slip=False, read_code=False))["scanner"]
    assert check.severity == "failed"
    assert time.monotonic() - started < 1.1 + short_grace + 1.0


class StuckScanner(FakeScanner):
    """A driver stuck inside its backend: status answers, the scan never returns and ignores its timeout."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__(delay=0.0)
        self.release = release

    def scan(self, settings, *, on_page=None, timeout=60.0):
        self.release.wait()
        return []


def test_a_driver_that_never_returns_becomes_a_failed_check_not_a_hung_kiosk(make_services, short_grace) -> None:
    release = threading.Event()
    try:
        services = make_services(scanner=StuckScanner(release), sections={"scanner": {"timeout": 1.1}})
        started = time.monotonic()
        checks = run_checks(services, print_slip=False, read_code=False)
        elapsed = time.monotonic() - started
    finally:
        release.set()
    check = by_name(checks)["scanner"]
    assert check.severity == "failed"
    assert "no answer" in check.detail and "scan" in check.detail  # says where it stopped
    assert elapsed < 1.1 * 2 + short_grace + 1.0  # its status and scan budgets, not forever
    assert by_name(checks)["portal"].ok  # the other checks were still reported


class FrozenStatusScanner(FakeScanner):
    """A scanner whose status query blocks until released (a backend stuck in a USB transfer)."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__(delay=0.0)
        self.release = release
        self.queries = 0

    def status(self) -> DeviceStatus:
        self.queries += 1
        self.release.wait()
        return super().status()


def test_between_sessions_a_hung_device_is_not_asked_again_until_it_answers(make_services, short_grace) -> None:
    release = threading.Event()
    scanner = FrozenStatusScanner(release)
    services = make_services(scanner=scanner, sections={"scanner": {"timeout": 1.1}})
    try:
        first = by_name(quick_checks(services))["scanner"]
        started = time.monotonic()
        second = by_name(quick_checks(services))["scanner"]
        assert time.monotonic() - started < 1.0  # did not wait another budget for the same hung call
    finally:
        release.set()
    assert first.severity == "failed" and "no answer" in first.detail
    assert second.severity == "failed" and "still no answer" in second.detail
    assert scanner.queries == 1  # one stuck call, not one per round
    time.sleep(0.05)  # the stuck call returns once released
    assert by_name(quick_checks(services))["scanner"].severity == "ok"


class UniformScanner(FakeScanner):
    """A scanner with a dead lamp: pages come back, all black."""

    def scan(self, settings, *, on_page=None, timeout=60.0):
        return [ScannedPage(image=Image.new("L", (850, 1100), 0), dpi=settings.dpi)]


def test_a_page_of_one_colour_fails_the_scanner(make_services) -> None:
    check = by_name(run_checks(make_services(scanner=UniformScanner(delay=0.0)), print_slip=False,
                               read_code=False))["scanner"]
    assert check.severity == "failed"
    assert "one colour" in check.detail


def test_empty_feeder_falls_back_to_the_flatbed(make_services) -> None:
    scanner = FakeScanner(delay=0.0, pages=0)
    check = by_name(run_checks(make_services(scanner=scanner), print_slip=False, read_code=False))["scanner"]
    assert check.severity == "ok"
    assert "flatbed" in check.detail


class FeederOnlyScanner(FakeScanner):
    def scan(self, settings: ScanSettings, *, on_page=None, timeout=60.0):
        raise NoDocuments("feeder empty", device="test")


def test_empty_feeder_without_flatbed_is_a_warning_asking_for_a_sheet(make_services) -> None:
    checks = run_checks(make_services(scanner=FeederOnlyScanner(delay=0.0)), print_slip=False, read_code=False)
    check = by_name(checks)["scanner"]
    assert check.severity == "warning" and check.ok
    assert "feeder" in check.detail
    assert blocking_failure(checks) is None


class ExplodingScanner(FakeScanner):
    def status(self) -> DeviceStatus:
        raise RuntimeError("backend exploded")


def test_an_exception_becomes_a_failed_check_with_its_type(make_services) -> None:
    checks = quick_checks(make_services(scanner=ExplodingScanner(delay=0.0)))
    check = by_name(checks)["scanner"]
    assert check.severity == "failed"
    assert "RuntimeError" in check.detail and "backend exploded" in check.detail


# ----------------------------------------------------------------------------------------- code reader
def test_no_code_shown_is_a_warning_not_a_failure(make_services) -> None:
    checks = run_checks(make_services(reader=FakeCodeReader(delay=0.0)), scan=False, print_slip=False,
                        read_timeout=0.3)
    check = by_name(checks)["code_reader"]
    assert check.severity == "warning" and check.ok
    assert blocking_failure(checks) is None


def test_reader_reporting_failure_fails_and_blocks(make_services) -> None:
    checks = run_checks(make_services(reader=FakeCodeReader(fault="gone")), scan=False, print_slip=False,
                        read_timeout=0.3)
    assert by_name(checks)["code_reader"].severity == "failed"
    assert (blocking_failure(checks) or "").startswith("code_reader:")


def test_a_code_read_is_described_never_shown(make_services, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    reader = FakeCodeReader([ID_CARD_QR], delay=0.0)
    check = by_name(run_checks(make_services(reader=reader), scan=False, print_slip=False))["code_reader"]
    assert check.severity == "ok"
    assert str(len(ID_CARD_QR)) in check.detail
    for secret in ("001099012345", "Nguyễn", "Tràng Tiền"):
        assert secret not in check.detail
        assert secret not in caplog.text


# ----------------------------------------------------------------------------------------- portal and clock
def test_portal_down_fails_but_does_not_block_sessions(make_services) -> None:
    checks = quick_checks(make_services(url=closed_port_url()))
    results = by_name(checks)
    assert results["portal"].severity == "failed"
    assert "unreachable" in results["portal"].detail.lower()
    assert "not blocking" in results["portal"].detail
    assert results["clock"].severity == "warning"  # cannot be compared without the portal
    assert blocking_failure(checks) is None


def test_portal_server_errors_are_reported(make_services, portal: SandboxHandle) -> None:
    portal.set_faults(FaultConfig(fail_rate=1.0, modes=("500",)))
    check = by_name(quick_checks(make_services()))["portal"]
    assert check.severity == "failed"
    assert "server_error" in check.detail


@pytest.mark.parametrize(("ahead", "severity"), [(90, "warning"), (600, "failed")])
def test_clock_skew_with_the_portal(make_services, portal: SandboxHandle, ahead: int, severity: str) -> None:
    portal.store.advance_clock(ahead)
    checks = quick_checks(make_services())
    check = by_name(checks)["clock"]
    assert check.severity == severity
    assert "ahead" in check.detail
    reported = float(check.detail.split(" s ")[0].rsplit(" ", 1)[1])
    assert abs(reported - ahead) < 5
    assert blocking_failure(checks) is None


# ----------------------------------------------------------------------------------------- outbox and disk
def _submission(ref: str) -> DossierSubmission:
    return DossierSubmission(procedure_code="1.001193", kiosk_id=KIOSK_ID, local_reference=ref,
                             confirmed_at=dt.datetime.now(dt.UTC), confirmation_token="tok-test")


def test_outbox_undelivered_for_over_an_hour_warns(make_services, tmp_path: Path) -> None:
    services = make_services()
    now = [time.time() - 2 * 3600]
    services.outbox.close()
    services.outbox = Outbox(tmp_path / "outbox", clock=lambda: now[0])
    services.outbox.enqueue(_submission("REF-OLD-0001"), {})
    now[0] = time.time()

    check = by_name(quick_checks(services))["outbox"]
    assert check.severity == "warning"
    assert "1 dossier" in check.detail and "2.0 h" in check.detail


def test_outbox_with_a_fresh_dossier_is_fine(make_services) -> None:
    services = make_services()
    services.outbox.enqueue(_submission("REF-NEW-0001"), {})
    check = by_name(quick_checks(services))["outbox"]
    assert check.severity == "ok" and "1 dossier" in check.detail


DiskUsage = namedtuple("DiskUsage", "total used free")


@pytest.mark.parametrize(("free", "severity"), [(500_000_000, "warning"), (50_000_000, "failed")])
def test_low_disk(make_services, monkeypatch: pytest.MonkeyPatch, free: int, severity: str) -> None:
    services = make_services()
    monkeypatch.setattr("kiosk.appliance.doctor.shutil.disk_usage", lambda path: DiskUsage(64_000_000_000, 0, free))
    checks = quick_checks(services)
    assert by_name(checks)["disk"].severity == severity
    assert blocking_failure(checks) is None


# ----------------------------------------------------------------------------------------- blocking rule
def test_only_session_devices_block() -> None:
    checks = [Check("portal", "failed", "down"), Check("disk", "failed", "full"), Check("printer", "warning", "low")]
    assert blocking_failure(checks) is None
    checks.append(Check("scanner", "failed", "gone"))
    assert blocking_failure(checks) == "scanner: gone"


# ----------------------------------------------------------------------------------------- the command
def _run_doctor(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from kiosk.cli import main

    code = main(argv)
    return code, capsys.readouterr().out


@pytest.fixture
def doctor_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, portal: SandboxHandle) -> pytest.MonkeyPatch:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_PORTAL__URL", portal.url)
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path / "kiosk-data"))
    monkeypatch.setenv("KIOSK_SCANNER__DPI", "100")
    monkeypatch.setenv("KIOSK_SCANNER__FAKE_DELAY", "0")
    monkeypatch.setenv("KIOSK_CODE_READER__FAKE_CODES", json.dumps(["any QR the technician shows"]))
    return monkeypatch


def test_doctor_json_with_the_default_fake_devices(doctor_env, capsys) -> None:
    code, out = _run_doctor(["doctor", "--json"], capsys)
    document = json.loads(out)
    assert code == 0
    assert document["ok"] is True and document["blocking"] is None
    assert [c["name"] for c in document["checks"]] == list(CHECK_NAMES)
    for check in document["checks"]:
        assert set(check) >= {"name", "ok", "severity", "detail", "seconds"}
        if check["name"] in ("scanner", "printer", "code_reader", "chip_reader"):  # repo defaults: all simulated
            assert check["severity"] == "warning" and 'SIMULATED (driver "fake"' in check["detail"], check
        else:
            assert check["severity"] == "ok", check


def test_doctor_exits_1_when_the_portal_is_down(doctor_env, capsys) -> None:
    doctor_env.setenv("KIOSK_PORTAL__URL", closed_port_url())
    code, out = _run_doctor(["doctor", "--json", "--no-print"], capsys)
    document = json.loads(out)
    assert code == 1
    assert document["ok"] is False and document["blocking"] is None
    portal_check = next(c for c in document["checks"] if c["name"] == "portal")
    assert portal_check["severity"] == "failed" and "not blocking" in portal_check["detail"]


def test_doctor_table_names_the_broken_device(doctor_env, capsys) -> None:
    doctor_env.setenv("KIOSK_PRINTER__FAKE_FAULT", "cover_open")
    code, out = _run_doctor(["doctor"], capsys)
    assert code == 1
    printer_line = next(line for line in out.splitlines() if line.startswith("printer"))
    assert "FAILED" in printer_line and "cover" in printer_line
    assert "OUT OF SERVICE" in out


def test_doctor_reports_a_driver_that_cannot_be_built(doctor_env, capsys, monkeypatch) -> None:
    from drivers import registry

    def broken(section):
        raise OSError("libusb not found")

    monkeypatch.setitem(registry.DRIVERS["printer"], "fake", broken)
    code, out = _run_doctor(["doctor", "--json", "--no-print"], capsys)
    printer_check = next(c for c in json.loads(out)["checks"] if c["name"] == "printer")
    assert code == 1
    assert printer_check["severity"] == "failed" and "libusb not found" in printer_check["detail"]


# ----------------------------------------------------------------------------------------- real SANE
@pytest.fixture
def sane_scanner(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("sane", reason="python-sane not installed (the project's 'sane' extra)")
    from drivers.sane_scanner import SaneScanner

    monkeypatch.setenv("SANE_CONFIG_DIR", str(SANE_DIR))
    made: list = []

    def make(**options):
        scanner = SaneScanner("test:0", timeout=20.0, options=options)
        made.append(scanner)
        return scanner

    yield make
    for scanner in made:
        scanner.close()


def test_sane_test_backend_scans_a_real_page(make_services, sane_scanner) -> None:
    services = make_services(scanner=sane_scanner(**{"test-picture": "Grid"}),
                             sections={"scanner": {"driver": "sane", "source": "flatbed", "dpi": 75}})
    check = by_name(run_checks(services, print_slip=False, read_code=False))["scanner"]
    assert check.severity == "ok", check
    assert "75 dpi" in check.detail


def test_sane_solid_black_page_is_caught(make_services, sane_scanner) -> None:
    services = make_services(scanner=sane_scanner(**{"test-picture": "Solid black"}),
                             sections={"scanner": {"driver": "sane", "source": "feeder", "dpi": 75}})
    check = by_name(run_checks(services, print_slip=False, read_code=False))["scanner"]
    assert check.severity == "failed"
    assert "one colour" in check.detail


# ----------------------------------------------------------------------------------------- for the technician
class _WatchedReader(FakeCodeReader):
    """Records the progress lines already given when the doctor starts waiting for a code."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__([SLIP_QR], delay=0.0)
        self.lines, self.seen_before_read = lines, None

    def read(self, timeout):
        if self.seen_before_read is None:
            self.seen_before_read = list(self.lines)
        return super().read(timeout)


def test_progress_lines_for_each_check_and_a_qr_prompt_before_the_wait(make_services) -> None:
    lines: list[str] = []
    reader = _WatchedReader(lines)
    services = make_services(reader=reader)
    run_checks(services, read_timeout=2.0, report=lines.append)
    for name in ("scanner", "printer", "code_reader", "portal", "outbox", "disk"):
        assert any(line.startswith(f"{name}: checking") for line in lines), lines
        assert any(line.startswith(f"{name}: ok in") for line in lines), lines
    assert reader.seen_before_read is not None
    assert any("show a QR code to the reader now" in line for line in reader.seen_before_read), lines


def test_doctor_command_progress_on_stderr_json_alone_on_stdout(doctor_env, capsys) -> None:
    from kiosk.cli import main

    code = main(["doctor", "--json", "--no-print", "--read-timeout", "1"])
    captured = capsys.readouterr()
    json.loads(captured.out)  # nothing but the document
    assert code == 0
    assert "kiosk doctor: printer: checking" in captured.err and "kiosk doctor: portal: ok in" in captured.err
    assert "show a QR code" in captured.err


def test_a_failed_portal_check_names_the_url_it_tried(make_services) -> None:
    url = closed_port_url()
    check = by_name(run_checks(make_services(url=url), print_slip=False, read_code=False))["portal"]
    assert check.severity == "failed" and url in check.detail, check


def test_simulated_devices_are_a_warning_naming_the_fake_driver(make_services) -> None:
    services = make_services(sections={"printer": {"driver": "fake"}})
    checks = by_name(quick_checks(services))
    assert checks["printer"].severity == "warning" and 'SIMULATED (driver "fake"' in checks["printer"].detail
    assert checks["scanner"].severity == "ok" and blocking_failure(list(checks.values())) is None


def test_doctor_as_root_hands_the_files_it_made_back_to_the_data_folder_owner(doctor_env, tmp_path, capsys,
                                                                              monkeypatch) -> None:
    """Run as root on a kiosk whose data folder belongs to the kiosk user: nothing root-owned is left there."""
    import os

    from kiosk.cli import doctor as doctor_cli
    from kiosk.cli import main

    data = tmp_path / "kiosk-data"
    data.mkdir()
    me = os.geteuid()
    monkeypatch.setattr(doctor_cli, "ROOT_UID", me)  # "root" is whoever runs the test
    real_owner = doctor_cli._owner_of
    monkeypatch.setattr(doctor_cli, "_owner_of", lambda folder: (4242, 4243) if folder == data else real_owner(folder))
    chowned: dict[Path, tuple[int, int]] = {}
    monkeypatch.setattr(os, "chown", lambda path, uid, gid, **kw: chowned.__setitem__(Path(path), (uid, gid)))
    assert main(["doctor", "--json", "--no-print", "--no-read"]) == 0
    capsys.readouterr()
    made = [p for p in data.rglob("*") if p.lstat().st_uid == me]
    assert made, "the doctor created nothing in the data folder: the test proves nothing"
    assert {p: chowned.get(p) for p in made} == {p: (4242, 4243) for p in made}


# ----------------------------------------------------------------------------------------- the NFC chip reader
from tests.chip_fixtures import *  # noqa: E402,F401,F403  (pcscd_vpcd, empty_slot, csca_bundle, ...)

_CHIP_DOCTOR = """
import json, sys
from kiosk.appliance import config
from kiosk.appliance.doctor import quick_checks
from kiosk.appliance.services import build
settings = config.load(portal={"url": sys.argv[1], "connect_timeout": 0.5, "read_timeout": 0.5},
                       kiosk={"data_dir": sys.argv[2]}, chip_reader={"driver": "pcsc", "csca_bundle": sys.argv[3]})
services = build(settings)
check = next(c for c in quick_checks(services) if c.name == "chip_reader")
print(json.dumps(check.as_dict()))
"""


def test_doctor_reports_the_nfc_reader_ok_missing_and_pcscd_down(make_services, empty_slot, csca_bundle, tmp_path):
    """`kiosk doctor` names the chip reader (the real pcscd with the vpcd reader), a configured reader that is
    not plugged in, and pcscd not running — each within its own deadline and never blocking sessions."""
    import os
    import subprocess
    import sys

    ok = by_name(quick_checks(make_services(sections={"chip_reader": {
        "driver": "pcsc", "reader": "Virtual PCD", "csca_bundle": str(csca_bundle)}})))["chip_reader"]
    assert ok.severity == "ok" and "Virtual PCD" in ok.detail and "1 CSCA certificate" in ok.detail, ok
    assert ok.seconds < 8 + WATCHDOG_GRACE

    missing = by_name(quick_checks(make_services(sections={"chip_reader": {
        "driver": "pcsc", "reader": "ACS ACR1252", "csca_bundle": str(csca_bundle)}})))
    assert missing["chip_reader"].severity == "failed" and "not found" in missing["chip_reader"].detail
    assert "pcscd" in missing["chip_reader"].detail  # what to check next
    assert blocking_failure(list(missing.values())) is None  # the other doors still serve citizens

    none = by_name(quick_checks(make_services()))["chip_reader"]
    assert none.severity == "ok" and "no chip reader configured" in none.detail

    # pcscd not running: libpcsclite finds pcscd through PCSCLITE_CSOCK_NAME; a child process gets a dead socket
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    r = subprocess.run([sys.executable, "-c", _CHIP_DOCTOR, closed_port_url(), str(tmp_path / "data"),
                        str(csca_bundle)], env=env, capture_output=True, text=True, timeout=60,
                       cwd=str(Path(__file__).resolve().parent.parent))
    assert r.returncode == 0, r.stderr[-2000:]
    down = json.loads(r.stdout.strip().splitlines()[-1])
    assert down["severity"] == "failed" and "pcscd" in down["detail"], down


def test_a_camera_reports_its_focus_control_once_open(make_services) -> None:
    """A technician with a blurred login picture learns from the doctor whether the camera can focus at all."""
    import sys

    from drivers.camera_reader import CameraReader
    from drivers.fakes.camera import FakeLensCamera

    sys.path.insert(0, str(Path(__file__).parent / "bench"))
    from qrframes import render_code

    view = np.full((360, 480), 180, np.uint8)
    code = render_code(SLIP_QR, module_px=4)
    view[20:20 + code.shape[0], 40:40 + code.shape[1]] = code
    for manual, autofocus, words in ((False, False, "fixed focus"), (True, True, "autofocus and manual focus")):
        camera = FakeLensCamera(lambda i: view, autofocus=autofocus, manual=manual, start_at=200.0,
                                autofocus_settles_at=200.0, realtime=True)
        reader = CameraReader("fake-lens", capture_factory=lambda camera=camera: camera)
        check = by_name(run_checks(make_services(reader=reader), scan=False, print_slip=False,
                                   read_timeout=5))["code_reader"]
        assert check.severity == "ok" and "test slip" in check.detail
        assert words in check.detail and "fps" in check.detail
