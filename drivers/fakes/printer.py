"""A simulated Epson-compatible receipt printer for the demo, `kiosk simulate` and tests.

It is the real `EscposPrinter` driver talking to an in-memory device through a python-escpos connection,
so the fake exercises the same encoding, status checks and error mapping as a real printer. The device
answers DLE EOT like an Epson TM (fixed bits 0x12 plus the flag bits), keeps the bytes each job put on
paper, takes time in proportion to the bytes when `speed` (head speed in mm/s, ~250 for a TM-T20II) is
set, and fails the ways real printers do:

    ""               ready
    "paper_out"      roll empty: status says paper end, anything sent is not printed
    "paper_low"      near-end sensor on: prints, status is a warning
    "cover_open"     cover open: offline, nothing printed
    "offline"        offline (error recovery, feed button held)
    "gone"           unplugged / powered off: the connection cannot be opened
    "timeout"        hung: accepts the connection, never answers or takes data
    "out_after_n:N"  the roll runs out after N more jobs
    "jam_mid_job"    the next job stops half way (partial receipt), then the printer reports an error
"""
from __future__ import annotations

import threading
import time

from drivers import escpos_cache  # noqa: F401 - before escpos: its printer database from the cache
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError

from drivers.escpos_printer import DLE_EOT, EscposPrinter

FAULTS = ("", "paper_out", "paper_low", "cover_open", "offline", "gone", "timeout", "jam_mid_job")
OUT_AFTER_PREFIX = "out_after_n:"
DOTS_PER_MM = 8  # 203 dpi heads


def check_fault(fault: str) -> str:
    """Validate a fault name (see the module doc); returns it unchanged."""
    if fault in FAULTS:
        return fault
    if fault.startswith(OUT_AFTER_PREFIX) and fault[len(OUT_AFTER_PREFIX):].isdigit():
        return fault
    raise ValueError(f"unknown printer fault {fault!r}; expected one of {FAULTS} or 'out_after_n:<N>'")


class FakeMechanism:
    """The printer hardware: paper, cover, error state, and what came out on paper."""

    def __init__(self, *, width_dots: int, fault: str = "", speed: float = 0.0) -> None:
        self.width_dots = width_dots
        self.speed = speed
        self.jobs: list[bytes] = []
        self._lock = threading.Lock()
        self._current = bytearray()
        self._jobs_left: int | None = None
        self.jammed = False  # set by a jam_mid_job; cleared by set_fault (the technician opened the cover)
        self.fault = ""
        self.set_fault(fault)

    def set_fault(self, fault: str) -> None:
        fault = check_fault(fault)
        with self._lock:
            self._jobs_left = int(fault[len(OUT_AFTER_PREFIX):]) if fault.startswith(OUT_AFTER_PREFIX) else None
            self.fault = fault
            self.jammed = False

    # ---------------------------------------------------------------- what the printer reports
    @property
    def paper_out(self) -> bool:
        return self.fault == "paper_out" or self._jobs_left == 0

    def status_byte(self, n: int) -> int:
        """The answer to DLE EOT n in the current state."""
        fault, paper_out = self.fault, self.paper_out
        cover = fault == "cover_open"
        jammed = self.jammed
        value = 0x12
        if n == 1 and (paper_out or cover or jammed or fault == "offline"):
            value |= 0x08
        elif n == 2:
            value |= (0x04 if cover else 0) | (0x20 if paper_out else 0) | (0x40 if jammed else 0)
        elif n == 3 and jammed:
            value |= 0x08  # autocutter error: the paper is stuck at the cutter
        elif n == 4:
            value |= (0x6C if paper_out else 0) | (0x0C if fault == "paper_low" else 0)
        return value

    # ---------------------------------------------------------------- the data path
    def connect(self, io_timeout: float) -> None:
        if self.fault == "gone":
            raise DeviceNotFoundError("fake printer: not connected")

    def hang(self, io_timeout: float) -> None:
        """A hung printer: the call blocks for the I/O timeout, then fails like a socket would."""
        time.sleep(io_timeout)
        raise TimeoutError("fake printer: no answer")

    def receive(self, data: bytes, io_timeout: float) -> None:
        """Bytes of a job arriving; they reach the paper unless the printer cannot print."""
        if self.fault == "timeout":
            self.hang(io_timeout)
        if self.fault == "gone":
            raise BrokenPipeError("fake printer: connection lost")
        if self.paper_out or self.jammed or self.fault in ("cover_open", "offline"):
            return  # a stopped printer buffers and never prints: nothing comes out
        if self.fault == "jam_mid_job":
            data = data[: len(data) // 2]
            with self._lock:
                self.fault, self.jammed = "", True
        if self.speed > 0:
            bytes_per_second = (self.width_dots / 8) * self.speed * DOTS_PER_MM
            seconds = len(data) / bytes_per_second
            if seconds > io_timeout:
                self.hang(io_timeout)
            time.sleep(seconds)
        self._current += data

    def end_job(self) -> None:
        """The connection closed: what was printed becomes one job (a cut-off job included)."""
        with self._lock:
            if not self._current:
                return
            self.jobs.append(bytes(self._current))
            self._current.clear()
            if self._jobs_left:
                self._jobs_left -= 1


class FakeConnection(Escpos):
    """A python-escpos connection to the fake mechanism (what Network/Usb are for a real printer)."""

    def __init__(self, mechanism: FakeMechanism, io_timeout: float, profile: str) -> None:
        super().__init__(profile=profile)
        self.mechanism = mechanism
        self.io_timeout = io_timeout
        self._answers = bytearray()

    def open(self) -> None:
        self.mechanism.connect(self.io_timeout)
        self._device = True

    def _raw(self, msg: bytes) -> None:
        if len(msg) == 3 and msg[:2] == DLE_EOT:
            if self.mechanism.fault == "timeout":
                return  # the query is lost; _read then waits
            self._answers.append(self.mechanism.status_byte(msg[2]))
            return
        self.mechanism.receive(msg, self.io_timeout)

    def _read(self) -> bytes:
        if not self._answers:
            self.mechanism.hang(self.io_timeout)
        answer = bytes(self._answers)
        self._answers.clear()
        return answer

    def close(self) -> None:
        if self._device:
            self._device = False
            self.mechanism.end_job()


class FakePrinter(EscposPrinter):
    """The ESC/POS driver over a simulated printer. `.jobs` holds what each job put on paper."""

    driver = "fake"

    def __init__(
        self,
        width_dots: int = 576,
        profile: str = "TM-T20II",
        fault: str = "",
        speed: float = 0.0,
        *,
        native_qr: bool = True,
        status_query: bool = True,
        timeout: float = 20.0,
    ) -> None:
        self.mechanism = FakeMechanism(width_dots=width_dots, fault=fault, speed=speed)
        super().__init__(
            lambda io_timeout: FakeConnection(self.mechanism, io_timeout, profile),
            connection="fake", profile=profile, width_dots=width_dots, native_qr=native_qr,
            status_query=status_query, timeout=timeout, label="fake printer",
        )

    @property
    def jobs(self) -> list[bytes]:
        return list(self.mechanism.jobs)

    @property
    def last_job(self) -> bytes | None:
        return self.mechanism.jobs[-1] if self.mechanism.jobs else None

    @property
    def fault(self) -> str:
        return self.mechanism.fault

    def set_fault(self, fault: str) -> None:
        """Change the simulated condition at run time ("" clears it, like a technician fixing the printer)."""
        self.mechanism.set_fault(fault)

    def describe(self) -> dict:
        return {**super().describe(), "fault": self.mechanism.fault, "speed_mm_s": self.mechanism.speed}
