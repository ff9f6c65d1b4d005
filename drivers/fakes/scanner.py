"""A feeder scanner in software, for the demo, `kiosk simulate` and the tests.

It behaves like the real one where the kiosk can notice: papers must be loaded before a scan, pages take
time and arrive one by one, a jam keeps the pages already scanned and the rest stay in the feeder for
the next scan, and every failure a real scanner reports can be injected (at construction, from config's
`scanner.fake_fault`, or at run time with `set_fault`).

Faults: "" (none); "jam_at:<N>" (page N of a batch jams, once; the jammed paper stays in the feeder);
"no_docs"; "cover_open"; "busy"; "io_error"; "gone" (unplugged after the first page of a batch, and
gone until the fault is cleared); "hang" (never answers: the caller's timeout fires -> DeviceTimeout).
`status()` shows the device as it is now: an unplug or a jam shows once it has happened.
"""
from __future__ import annotations

import threading
import time

from drivers.base import (
    CoverOpen,
    DeviceBusy,
    DeviceError,
    DeviceGone,
    DeviceIOError,
    DeviceStatus,
    DeviceTimeout,
    Health,
    NoDocuments,
    PageCallback,
    PaperJam,
    ScanSettings,
    ScannedPage,
    Scanner,
    ScanSource,
)
from drivers.page_images import KINDS, synth_page

__all__ = ["FAULTS", "FakeScanner"]

FAULTS = ("", "jam_at:<N>", "no_docs", "cover_open", "busy", "io_error", "gone", "hang")

# Faults that stop a scan before any paper moves, and what they raise.
_STARTUP_FAULTS: dict[str, type[DeviceError]] = {
    "no_docs": NoDocuments,
    "cover_open": CoverOpen,
    "busy": DeviceBusy,
}


def _parse_fault(fault: str) -> tuple[str, int]:
    """("jam_at", 3) for "jam_at:3"; (name, 0) for the others. Rejects typos: a fault that silently does
    nothing would make a chaos test pass for the wrong reason."""
    fault = fault.strip()
    if fault.startswith("jam_at:"):
        number = fault.split(":", 1)[1]
        if not number.isdigit() or int(number) < 1:
            raise ValueError(f"jam_at needs a page number from 1, got {fault!r}")
        return "jam_at", int(number)
    if fault not in FAULTS:
        raise ValueError(f"unknown scanner fault {fault!r}; known: {', '.join(f or '(none)' for f in FAULTS)}")
    return fault, 0


class FakeScanner(Scanner):
    """A feeder scanner whose pages come from `synth_page`.

    `pages` papers are in the feeder at start (`load` adds more); a flatbed scan always has one page on
    the glass. Thread-safe: the kiosk scans on a worker thread while a health check may call `status`.
    """

    driver = "fake"

    def __init__(self, delay: float = 0.15, fault: str = "", pages: int = 2, seed: int = 0) -> None:
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self.delay = delay
        self.seed = seed
        self._fault, self._jam_page = _parse_fault(fault)
        self._lock = threading.Lock()
        self._feeder: list[str] = []  # kinds of the papers still in the feeder, next first
        self._serial = 0  # distinct images for every paper ever fed
        self._scanning = False
        self._jammed = False  # a jam happened and nobody has scanned since (the citizen must clear it)
        self._unplugged = False
        self._closed = False
        self.load(pages)

    # ------------------------------------------------------------------ test and demo controls
    def load(self, pages: int, kind: str = "form") -> None:
        """Put `pages` papers of `kind` ("form" or "id_copy") into the feeder, behind those already there."""
        if pages < 0:
            raise ValueError("pages must be >= 0")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        with self._lock:
            self._feeder.extend([kind] * pages)

    def set_fault(self, fault: str) -> None:
        """Inject a fault from now on ("" clears it, and plugs an unplugged scanner back in)."""
        name, page = _parse_fault(fault)
        with self._lock:
            self._fault, self._jam_page = name, page
            self._unplugged = False

    @property
    def fault(self) -> str:
        return f"jam_at:{self._jam_page}" if self._fault == "jam_at" else self._fault

    @property
    def pages_in_feeder(self) -> int:
        return len(self._feeder)

    # ------------------------------------------------------------------ Scanner
    def status(self) -> DeviceStatus:
        if self._closed:
            return DeviceStatus(Health.FAILED, "closed", DeviceGone.kind)
        if self._unplugged:
            return DeviceStatus(Health.FAILED, "unplugged", DeviceGone.kind)
        fault = self._fault
        if fault in ("hang", "io_error"):
            kind = DeviceTimeout.kind if fault == "hang" else DeviceIOError.kind
            return DeviceStatus(Health.FAILED, f"fake fault {fault}", kind)
        if fault in ("cover_open", "busy"):
            return DeviceStatus(Health.WARNING, f"fake fault {fault}", _STARTUP_FAULTS[fault].kind)
        if self._jammed:
            return DeviceStatus(Health.WARNING, "paper jammed in the feeder", PaperJam.kind)
        if not self._feeder or fault == "no_docs":
            return DeviceStatus(Health.OK, "feeder empty", "")
        return DeviceStatus(Health.OK, f"{len(self._feeder)} sheet(s) in the feeder")

    def describe(self) -> dict:
        return {**super().describe(), "vendor": "DVC Kiosk", "model": "fake feeder scanner",
                "delay": self.delay, "fault": self.fault, "pages_in_feeder": len(self._feeder)}

    def close(self) -> None:
        self._closed = True

    def scan(
        self,
        settings: ScanSettings,
        *,
        on_page: PageCallback | None = None,
        timeout: float = 60.0,
    ) -> list[ScannedPage]:
        """Scan every paper in the feeder (up to `settings.max_pages`), or one flatbed page.

        Raises the injected fault as the matching DeviceError, with the pages scanned before it in
        `error.pages`. A jammed paper stays in the feeder, so the next scan starts with it. `timeout` is
        how long the scanner may stay silent (until the first page, between pages), as for SaneScanner.
        """
        if self._closed:
            raise DeviceGone("scanner closed", device="fake")
        with self._lock:
            if self._scanning:
                raise DeviceBusy("a scan is already running", device="fake")
            self._scanning = True
            self._jammed = False  # scanning again means the citizen has cleared the paper path
        deadline = time.monotonic() + timeout
        pages: list[ScannedPage] = []
        try:
            self._raise_startup_fault(deadline)
            if settings.source is ScanSource.FLATBED:
                kinds = ["form"]
            elif not self._feeder:
                raise NoDocuments("feeder empty", device="fake")
            else:
                kinds = self._feeder[: settings.max_pages]
            for kind in kinds:
                self._feed_one(settings, kind, pages, deadline, on_page, single=len(kinds) == 1)
                deadline = time.monotonic() + timeout  # each page that arrives restarts the clock
        except DeviceError as error:
            error.pages = pages  # type: ignore[attr-defined]
            raise
        finally:
            self._scanning = False
        return pages

    # ------------------------------------------------------------------ internals
    def _raise_startup_fault(self, deadline: float) -> None:
        fault = self._fault
        if fault == "hang":
            self._hang_until(deadline)
        if self._unplugged:
            raise DeviceGone("scanner unplugged", device="fake")
        if fault in _STARTUP_FAULTS:
            raise _STARTUP_FAULTS[fault](f"fake fault {fault}", device="fake")

    def _hang_until(self, deadline: float) -> None:
        """What a hung backend looks like from outside: nothing, until the caller gives up."""
        time.sleep(max(0.0, deadline - time.monotonic()))
        raise DeviceTimeout("scanner did not answer in time", device="fake")

    def _feed_one(self, settings: ScanSettings, kind: str, pages: list[ScannedPage], deadline: float,
                  on_page: PageCallback | None, *, single: bool) -> None:
        """Move one paper through the scanner: wait, check faults, produce the image, hand it over."""
        page_number = len(pages) + 1
        if time.monotonic() + self.delay > deadline:
            self._hang_until(deadline)
        time.sleep(self.delay)
        fault = self._fault  # re-read: set_fault may be called while a batch runs
        if fault == "hang":
            self._hang_until(deadline)
        if fault == "jam_at" and page_number == self._jam_page:
            # It jams once; the jammed paper stays in the feeder so the next scan starts with it.
            self._fault, self._jam_page, self._jammed = "", 0, True
            raise PaperJam(f"paper jammed at page {page_number}", device="fake")
        if fault == "io_error":
            raise DeviceIOError("fake I/O error while reading a page", device="fake")
        if fault == "gone" and (pages or single):
            self._unplugged = True
            raise DeviceGone("scanner unplugged during the batch", device="fake")
        image = synth_page(self._serial, dpi=settings.dpi, mode=settings.mode, seed=self.seed, kind=kind)
        self._serial += 1
        if settings.source is ScanSource.FEEDER:
            with self._lock:
                self._feeder.pop(0)
        page = ScannedPage(image=image, dpi=settings.dpi, index=len(pages))
        pages.append(page)
        if on_page is not None:
            on_page(page)
