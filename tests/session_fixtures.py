"""Fixtures for driving the citizen's session state machine the way the app does, but step by step.

A `Kiosk` bundles a `Session` run by a `ManualRunner` (blocking work waits until the test lets it run, so busy
states are observable and results can arrive late or out of order), the real catalogue, the real sandbox portal
on loopback (one per module), a real outbox on disk (one per module: each session has its own reference in it),
fake devices and a clock the test moves by hand.
The walk helpers (`to_login`, `to_form`, ... `to_done`) take a citizen along the spine with valid answers so a
test can start from any step.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from drivers.base import DeviceStatus, Health, PageCallback, ScannedPage, Scanner, ScanSettings
from drivers.fakes.printer import FakePrinter
from drivers.fakes.reader import FakeCodeReader
from drivers.page_images import a4_size, synth_page
from kiosk.appliance import config
from kiosk.appliance import services as services_mod
from kiosk.outbox.store import Outbox
from kiosk.portal.client import PortalClient
from kiosk.sandbox.server import SandboxHandle
from kiosk.session.machine import ManualRunner, Session, State
from portal_fixtures import KIOSK_ID, otp_code, sandbox_server  # noqa: F401  (fixtures)

#: Sandbox login codes (docs/sandbox.md). The people are invented.
LOGIN_LEVEL2 = "VNEID-TEST-0001"
LOGIN_LEVEL1 = "VNEID-TEST-0003"
LOGIN_EXPIRED = "VNEID-TEST-EXPIRED"
#: What the sandbox knows about LOGIN_LEVEL2: must never reach a log.
CITIZEN_ID_NUMBER = "001099012345"
CITIZEN_NAME = "Nguyễn Văn An"
CITIZEN_ADDRESS = "Số 12 Tràng Tiền"

#: Birth registration: two components to scan, a form with a prefilled declarant.
BIRTH = "1.001193"
#: A synthetic chip ID card payload (shared/domain.md), which is not a login code.
# (The example in shared/domain.md has birth-year digits 99 for a 1990 birth, which the parser rightly rejects.)
ID_CARD_QR = "001090012345|123456789|Nguyễn Văn An|01011990|Nam|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|15082021"
ID_CARD_NUMBER = "001090012345"

SCAN_DPI = 75  # the lowest the config allows: keeps synthetic pages, blank checks and PDF packing fast


class FakeClock:
    """A monotonic clock the test moves: inactivity without sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@functools.lru_cache(maxsize=1)
def _printed_page_jpeg() -> bytes:
    width, height = a4_size(SCAN_DPI)
    a5 = synth_page(0, dpi=SCAN_DPI).crop((0, 0, width, height // 2))  # half the pixels: faster checks and packing
    out = io.BytesIO()
    a5.save(out, "JPEG", quality=80, dpi=(SCAN_DPI, SCAN_DPI))
    return out.getvalue()


def printed_page() -> Image.Image:
    """A realistic scanned A5 form (the top half of a synthetic A4 scan), as a scanner that delivers JPEG hands
    it over: rendered once, a fresh image each time because the session closes the images it drops."""
    return Image.open(io.BytesIO(_printed_page_jpeg()))


def small_slip() -> Image.Image:
    """A small printed paper (A7, the size of a birth notice stub): the cheapest realistic sheet, for long runs."""
    width, height = a4_size(SCAN_DPI)
    return printed_page().crop((0, 0, width // 2, height // 4))


def blank_page() -> Image.Image:
    """An A5 sheet with nothing on it, as a scanner returns the empty back of a page."""
    width, height = a4_size(SCAN_DPI)
    return Image.new("L", (width, height // 2), 255)


class PaperScanner(Scanner):
    """A cheap feeder scanner for flow tests: each scan feeds the sheets put in with `load`, or one printed page
    when nothing was loaded (a citizen who always puts one sheet in). FakeScanner is used for the fault cases."""

    driver = "paper"

    def __init__(self, sheet: Callable[[], Image.Image] = printed_page) -> None:
        self.sheet = sheet  # what one sheet put in looks like
        self.loaded: list[Image.Image] = []

    def load(self, *images: Image.Image) -> None:
        self.loaded.extend(images)

    def status(self) -> DeviceStatus:
        return DeviceStatus(Health.OK, "paper scanner")

    def scan(self, settings: ScanSettings, *, on_page: PageCallback | None = None,
             timeout: float = 60.0) -> list[ScannedPage]:
        images, self.loaded = (self.loaded or [self.sheet()]), []
        pages = []
        for image in images:
            page = ScannedPage(image=image, dpi=settings.dpi, index=len(pages))
            pages.append(page)
            if on_page is not None:
                on_page(page)
        return pages


def birth_form_values(today: dt.date | None = None) -> dict[str, str]:
    """Valid answers for the birth registration form (the declarant is prefilled from the login)."""
    born = (today or dt.date.today()) - dt.timedelta(days=10)
    return {
        "child_full_name": "Lê Minh Khôi",
        "child_birth_date": born.strftime("%d/%m/%Y"),
        "child_sex": "Nam",
        "birth_place": "Trạm y tế xã Tân Lập",
        "mother_full_name": "Lê Thị Hồng Nhung",
    }


@dataclasses.dataclass
class Kiosk:
    """One kiosk under test and the helpers that walk a citizen through it."""

    session: Session
    runner: ManualRunner
    services: services_mod.Services
    clock: FakeClock
    scanner: Scanner
    printer: FakePrinter
    reader: FakeCodeReader
    sandbox: SandboxHandle

    # ------------------------------------------------------------------ driving
    @property
    def state(self) -> State:
        return self.session.state

    @property
    def data(self):
        return self.session.data

    def send(self, event: str, **payload: Any) -> None:
        self.session.send(event, **payload)

    def _is_read_job(self, job) -> bool:
        fn = job[0]
        return any(cell.cell_contents is self.reader for cell in (fn.__closure__ or ()))

    @property
    def reading(self) -> bool:
        """A code read is armed (the screen is waiting for the citizen's code)."""
        return any(self._is_read_job(job) for job in self.runner.jobs)

    def settle(self, limit: int = 50) -> None:
        """Run the pending work, as the worker thread would, until the kiosk waits on the citizen. A read with no
        code in front of the reader is left armed (a real one would just time out and read again)."""
        for _ in range(limit):
            if not self.runner.jobs:
                return
            if self._is_read_job(self.runner.jobs[0]) and not self.reader._pending and not self.reader.fault:
                if len(self.runner.jobs) == 1:
                    return
                self.runner.jobs.rotate(-1)  # let the other work finish first
                continue
            self.runner.run_next()
        raise AssertionError(f"work never settled in {self.state}: {len(self.runner.jobs)} jobs left")

    def present(self, text: str) -> None:
        """The citizen holds a code up to the reader, and the kiosk reads it."""
        self.reader.present(text)
        self.settle()

    # ------------------------------------------------------------------ walking the spine
    def to_procedure_info(self, code: str = BIRTH) -> None:
        self.send("start")
        self.send("choose", code=code)
        assert self.state is State.PROCEDURE_INFO

    def to_login(self, code: str = BIRTH) -> None:
        self.to_procedure_info(code)
        self.send("next")
        self.send("agree")
        assert self.state is State.LOGIN

    def to_form(self, login: str = LOGIN_LEVEL2) -> None:
        self.to_login()
        self.present(login)
        assert self.state is State.FORM, self.data.error

    def to_documents(self, login: str = LOGIN_LEVEL2) -> None:
        self.to_form(login)
        for field, value in birth_form_values().items():
            self.send("set", field=field, value=value)
        self.send("next")
        assert self.state is State.DOCUMENTS, self.data.form_errors

    def scan_all(self) -> None:
        """Scan every component (one sheet each) and move on to review."""
        for _ in self.data.components:
            self.send("scan")
            self.settle()
            self.send("next")
        assert self.state is State.REVIEW, self.data.error

    def to_review(self, login: str = LOGIN_LEVEL2) -> None:
        self.to_documents(login)
        self.scan_all()

    def to_otp(self, login: str = LOGIN_LEVEL2) -> None:
        self.to_review(login)
        self.send("next")
        self.settle()
        assert self.state is State.OTP and self.data.otp is not None, self.data.error

    def the_code(self) -> str:
        """The one-time code 'sent to the citizen's phone'."""
        return otp_code(self.sandbox, self.data.otp.otp_id)

    def to_submitting(self, login: str = LOGIN_LEVEL2) -> None:
        self.to_otp(login)
        self.send("submit_code", code=self.the_code())
        self.runner.run_next()  # verifies the code; the submission itself then waits in the runner
        assert self.state is State.SUBMITTING, self.data.error

    def to_done(self, login: str = LOGIN_LEVEL2, *, printed: bool = True) -> None:
        """To the done screen; `printed=False` leaves the receipt printing (the slowest step) still running."""
        self.to_submitting(login)
        self.runner.run_next()
        assert self.state is State.DONE, self.data.error
        if printed:
            self.settle()

    def to_rating(self, *, printed: bool = True) -> None:
        self.to_done(printed=printed)
        self.send("next")
        assert self.state is State.RATING


@functools.cache
def _settings(portal_url: str, data_dir: str) -> config.Settings:
    return config.load(
        kiosk={"id": KIOSK_ID, "data_dir": data_dir, "log_dir": data_dir + "/log",
               "inactivity_seconds": 90.0, "inactivity_warning_seconds": 20.0},
        portal={"url": portal_url, "connect_timeout": 1.0, "read_timeout": 3.0, "upload_timeout": 5.0},
        scanner={"driver": "fake", "dpi": SCAN_DPI, "fake_delay": 0.0, "timeout": 10.0},
        printer={"driver": "fake", "timeout": 2.0},
        code_reader={"driver": "fake"},
        payment={"bank_bin": "", "account": ""},
    )


@functools.lru_cache(maxsize=1)
def _catalog_and_holidays():
    from kiosk.domain.appointment import HolidayCalendar
    from kiosk.domain.catalog import load_catalog

    return load_catalog(), HolidayCalendar.from_file()


def build_kiosk(tmp_path: Path, sandbox: SandboxHandle, *, scanner: Scanner | None = None,
                printer: FakePrinter | None = None, portal_url: str | None = None,
                outbox: Outbox | None = None) -> Kiosk:
    """A kiosk on the real catalogue and holiday table, the given portal, fake devices and an outbox (its own
    in `tmp_path` unless a shared one is given: opening an outbox costs more than most tests)."""
    settings = _settings(portal_url or sandbox.url, str(tmp_path / "kiosk"))
    catalog, holidays = _catalog_and_holidays()
    portal = PortalClient(settings.portal.url, kiosk_id=KIOSK_ID, connect_timeout=settings.portal.connect_timeout,
                          read_timeout=settings.portal.read_timeout, upload_timeout=settings.portal.upload_timeout)
    svc = services_mod.Services(
        config=settings, catalog=catalog, portal=portal,
        scanner=scanner or PaperScanner(),
        printer=printer or FakePrinter(width_dots=settings.printer.width_dots, timeout=2.0),
        reader=FakeCodeReader(delay=0.0),
        outbox=outbox or Outbox(tmp_path / "kiosk"),
        holidays=holidays,
    )
    clock, runner = FakeClock(), ManualRunner()
    return Kiosk(Session(svc, runner, clock=clock, strict=True), runner, svc, clock, svc.scanner, svc.printer,
                 svc.reader, sandbox)


def close_kiosk(k: Kiosk, *, keep_outbox: bool = False) -> None:
    for device in k.services.devices().values():
        device.close()
    k.services.portal.close()
    if not keep_outbox:
        k.services.outbox.close()


@pytest.fixture
def portal(sandbox_server: SandboxHandle) -> Iterator[SandboxHandle]:  # noqa: F811 (fixture from portal_fixtures)
    """The module's sandbox portal, shared (resetting it per test costs more than the tests): tests look only
    at their own dossiers. Faults a test switches on are switched off after it."""
    yield sandbox_server
    sandbox_server.set_faults(None)


@pytest.fixture(scope="module")
def shared_outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outbox]:
    """One outbox for the module's kiosks; every session has its own local reference in it."""
    with Outbox(tmp_path_factory.mktemp("outbox")) as outbox:
        yield outbox


@pytest.fixture
def kiosk(tmp_path: Path, portal: SandboxHandle, shared_outbox: Outbox) -> Iterator[Kiosk]:
    k = build_kiosk(tmp_path, portal, outbox=shared_outbox)
    yield k
    close_kiosk(k, keep_outbox=True)
