"""ESC/POS thermal receipt printers, built on python-escpos.

Everything is printed as 1-bit raster images (GS v 0): printers' Vietnamese code pages are unreliable,
so text is rendered by the caller at the head width and sent as pixels. QR codes use the printer's own
QR command when the profile has one and the site allows it, else they are rasterised here.

Before printing, printers that can report status are asked (DLE EOT 1-4) and a job is never sent into a
printer that says paper out, cover open, error or offline. After sending, status is asked again so a jam
or a roll that ran out mid-job is reported (the error then carries `after_send = True`: the receipt may
be incomplete). Every exchange runs in a worker thread bounded by the job's timeout, so a wedged USB or
serial write cannot hang the kiosk.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from typing import TypeVar
from collections.abc import Callable

import qrcode
from drivers import escpos_cache  # noqa: F401 - before escpos: its printer database from the cache
from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial
from PIL import Image

from drivers.base import (
    ERROR_KINDS,
    DeviceError,
    DeviceGone,
    DeviceIOError,
    DeviceTimeout,
    FeedBlock,
    Health,
    ImageBlock,
    Printer,
    PrinterStatus,
    PrintJob,
    QrBlock,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Connect = Callable[[float], Escpos]
"""Builds a fresh (unopened) python-escpos connection; the argument is the I/O timeout in seconds."""

CONNECTIONS = ("usb", "serial", "network", "cups", "file")
THRESHOLD = 128  # grey level at and above which a pixel stays white
STATUS_TIMEOUT = 2.0  # an Epson answers DLE EOT within milliseconds; longer means no answer at all
FRAGMENT_ROWS = 960  # rows per GS v 0 command: small enough for every head's receive buffer
IO_TIMEOUT_SHARE = 0.8  # share of a job's timeout given to each connection read/write

DLE_EOT = b"\x10\x04"
ALIGN_CENTER = b"\x1ba\x01"
ALIGN_LEFT = b"\x1ba\x00"
FEED_DOTS = b"\x1bJ"  # ESC J n: feed n dots

# DLE EOT n answers (Epson ESC/POS reference). Every answer byte has bit 1 and bit 4 set, bits 0 and 7 clear.
STATUS_FIXED_MASK, STATUS_FIXED_BITS = 0x93, 0x12
S1_OFFLINE = 0x08
S2_COVER_OPEN, S2_PAPER_END_STOP, S2_ERROR = 0x04, 0x20, 0x40
S3_AUTOCUTTER, S3_UNRECOVERABLE, S3_AUTO_RECOVERABLE = 0x08, 0x20, 0x40
S4_NEAR_END, S4_PAPER_END = 0x0C, 0x60


# --------------------------------------------------------------------------------------------- status
@dataclass(frozen=True)
class StatusBytes:
    """The four DLE EOT answers: printer (n=1), offline cause (2), error cause (3), roll paper sensor (4)."""

    printer: int
    offline_cause: int
    error: int
    paper: int


def status_from_bytes(raw: StatusBytes) -> PrinterStatus:
    """Turn DLE EOT answers into a PrinterStatus; `error_kind` names the most useful thing to fix first."""
    cover_open = bool(raw.offline_cause & S2_COVER_OPEN)
    paper_out = (raw.paper & S4_PAPER_END) == S4_PAPER_END or bool(raw.offline_cause & S2_PAPER_END_STOP)
    paper_low = bool(raw.paper & S4_NEAR_END)
    jammed = bool(raw.error & (S3_AUTOCUTTER | S3_UNRECOVERABLE | S3_AUTO_RECOVERABLE)) or bool(
        raw.offline_cause & S2_ERROR
    )
    online = not raw.printer & S1_OFFLINE
    for condition, kind, detail in (
        (cover_open, "cover_open", "cover open"),
        (paper_out, "paper_out", "paper end"),
        (jammed, "paper_jam", "printer error (jam or cutter)"),
        (not online, "printer_offline", "printer offline"),
    ):
        if condition:
            return PrinterStatus(
                Health.FAILED, detail, kind, paper_out=paper_out, paper_low=paper_low,
                cover_open=cover_open, online=online,
            )
    if paper_low:
        return PrinterStatus(Health.WARNING, "paper near end", "", paper_low=True)
    return PrinterStatus(Health.OK, "ready")


def _raise_for(status: PrinterStatus, *, device: str, after_send: bool = False) -> None:
    if not status.error_kind:
        return
    error = ERROR_KINDS.get(status.error_kind, DeviceError)(status.detail, device=device)
    error.after_send = after_send  # type: ignore[attr-defined]
    raise error


# --------------------------------------------------------------------------------------------- images
def to_one_bit(image: Image.Image, width_dots: int) -> Image.Image:
    """The exact pixels the head will print: thresholded (not dithered: text stays crisp), scaled down
    if wider than the head, centred on a white strip exactly `width_dots` wide."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        image = flat
    grey = image.convert("L")
    if grey.width > width_dots:
        height = max(1, round(grey.height * width_dots / grey.width))
        grey = grey.resize((width_dots, height), Image.Resampling.LANCZOS)
    mono = grey.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1", dither=Image.Dither.NONE)
    if mono.width == width_dots:
        return mono
    strip = Image.new("1", (width_dots, mono.height), 255)
    strip.paste(mono, ((width_dots - mono.width) // 2, 0))
    return strip


def qr_modules(payload: str) -> int:
    """Side of the QR symbol in modules (error correction M, no quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return code.modules_count


def qr_module_dots(payload: str, size_dots: int, width_dots: int) -> int:
    """Dots per module so the symbol is about `size_dots` wide and, with its quiet zone, fits the head."""
    modules = qr_modules(payload)
    fit = width_dots // (modules + 8)
    return max(1, min(16, fit, max(2, size_dots // modules)))


def render_qr(payload: str, size_dots: int, width_dots: int) -> Image.Image:
    """A QR code as a 1-bit strip of the head width, with the 4-module quiet zone readers need."""
    box = qr_module_dots(payload, size_dots, width_dots)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return to_one_bit(code.make_image().get_image(), width_dots)


# --------------------------------------------------------------------------------------------- encoding
def head_width(profile: str, width_dots: int) -> int:
    """The printable width: the configured width, capped by the profile's known width (never wider)."""
    try:
        profile_width = int(get_profile(profile).profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return width_dots
    return min(width_dots, profile_width)


def encode_job(job: PrintJob, *, profile: str, width_dots: int, native_qr: bool) -> bytes:
    """The ESC/POS byte stream of a job, composed with python-escpos (Dummy) for `profile`."""
    out = Dummy(profile=profile)
    width = head_width(profile, width_dots)
    native = native_qr and out.profile.supports("qrCode")
    out.hw("INIT")
    # python-escpos prints a notice on stdout for profiles of unknown width; keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        for block in job.blocks:
            if isinstance(block, ImageBlock):
                out.image(to_one_bit(block.image, width), impl="bitImageRaster", fragment_height=FRAGMENT_ROWS)
            elif isinstance(block, QrBlock):
                if native:
                    module = qr_module_dots(block.payload, block.size_dots, width)
                    quiet_zone = FEED_DOTS + bytes([min(255, 4 * module)])  # the printer prints no quiet zone
                    out._raw(quiet_zone + ALIGN_CENTER)
                    out.qr(block.payload, ec=QR_ECLEVEL_M, size=module, native=True)
                    out._raw(ALIGN_LEFT + quiet_zone)
                else:
                    out.image(render_qr(block.payload, block.size_dots, width), impl="bitImageRaster",
                              fragment_height=FRAGMENT_ROWS)
            elif isinstance(block, FeedBlock):
                out.print_and_feed(max(0, min(255, block.lines)))
    if job.cut:
        out.cut()
    else:
        out.print_and_feed(4)
    return out.output


# --------------------------------------------------------------------------------------------- errors
def as_device_error(exc: BaseException, device: str) -> DeviceError:
    """Map whatever a connection raised to the kiosk's error tree."""
    if isinstance(exc, DeviceError):
        return exc
    detail = f"{type(exc).__name__}: {exc}".strip()
    try:
        import serial

        if isinstance(exc, serial.SerialTimeoutException):
            return DeviceTimeout(detail, device=device)
        if isinstance(exc, serial.SerialException):
            return DeviceGone(detail, device=device)
    except ImportError:  # pragma: no cover - pyserial is a dependency
        pass
    try:
        import usb.core

        if isinstance(exc, usb.core.USBTimeoutError):
            return DeviceTimeout(detail, device=device)
        if isinstance(exc, (usb.core.USBError, usb.core.NoBackendError)):  # NoBackendError: no libusb
            return DeviceGone(detail, device=device)
    except ImportError:
        pass
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return DeviceTimeout(detail, device=device)
    if isinstance(exc, (DeviceNotFoundError, OSError, RuntimeError)):
        # RuntimeError: python-escpos's "install pyusb/pycups" for a missing connection library.
        return DeviceGone(detail, device=device)
    return DeviceIOError(detail, device=device)


# --------------------------------------------------------------------------------------------- driver
class EscposPrinter(Printer):
    """A receipt printer spoken to through a python-escpos connection (opened per job, so a printer that
    was power-cycled or re-plugged works again on the next job without restarting the kiosk)."""

    driver = "escpos"

    def __init__(
        self,
        connect: Connect,
        *,
        connection: str = "custom",
        profile: str = "TM-T20II",
        width_dots: int = 576,
        native_qr: bool = True,
        status_query: bool = True,
        timeout: float = 20.0,
        label: str = "",
        probe: Callable[[], None] | None = None,
    ) -> None:
        try:
            escpos_profile = get_profile(profile)
        except Exception as e:  # python-escpos raises KeyError or its own NotSupported
            raise ValueError(f"unknown printer profile {profile!r} (see python-escpos capabilities)") from e
        self._connect = connect
        self.connection = connection
        self.profile = profile
        self.width_dots = head_width(profile, width_dots)
        self.native_qr = native_qr and escpos_profile.supports("qrCode")
        # Star-mode printers and write-only paths (file, CUPS queue) cannot answer DLE EOT.
        self.status_supported = (
            status_query and not escpos_profile.supports("starCommands") and connection not in ("file", "cups")
        )
        self.timeout = timeout
        self.label = label or connection
        self._probe_target = probe
        self._lock = threading.Lock()
        self._stuck: threading.Thread | None = None
        if self.width_dots < width_dots:
            log.warning("printer width %d capped to %d by profile %s", width_dots, self.width_dots, profile)

    # ------------------------------------------------------------------ public
    def describe(self) -> dict:
        return {
            **super().describe(),
            "connection": self.connection,
            "target": self.label,
            "profile": self.profile,
            "width_dots": self.width_dots,
            "native_qr": self.native_qr,
            "status_supported": self.status_supported,
        }

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT) where supported; otherwise only check it can be reached."""
        try:
            if self.status_supported:
                return self._exchange(self._read_status, min(self.timeout, STATUS_TIMEOUT * 4))
            self._probe()
        except DeviceError as e:
            return PrinterStatus(Health.FAILED, e.detail, e.kind, online=False, supported=self.status_supported)
        return PrinterStatus(
            Health.OK, "this model/connection cannot report paper or cover state; printing without checks",
            supported=False,
        )

    def print_job(self, job: PrintJob, *, timeout: float | None = None) -> bytes:
        """Encode and send a job; returns the exact job bytes sent (status queries excluded)."""
        stream = encode_job(job, profile=self.profile, width_dots=self.width_dots, native_qr=self.native_qr)
        started = time.monotonic()

        def send(conn: Escpos) -> None:
            if self.status_supported:
                _raise_for(self._read_status(conn), device=self.label)
            conn._raw(stream)
            if self.status_supported:
                _raise_for(self._read_status(conn), device=self.label, after_send=True)

        self._exchange(send, self.timeout if timeout is None else timeout)
        log.info("printed job %s: %d bytes in %.2f s", job.name, len(stream), time.monotonic() - started)
        return stream

    # ------------------------------------------------------------------ internals
    def _read_status(self, conn: Escpos) -> PrinterStatus:
        answers = [self._query(conn, n) for n in (1, 2, 3, 4)]
        return status_from_bytes(StatusBytes(*answers))

    def _query(self, conn: Escpos, n: int) -> int:
        """One DLE EOT exchange. An answer comes at once or never, so the read waits at most
        STATUS_TIMEOUT, and serial reads take the single byte (python-escpos would wait for 16)."""
        import serial

        device = getattr(conn, "_device", None)
        query = DLE_EOT + bytes([n])
        if isinstance(device, socket.socket):
            job_timeout = device.gettimeout()
            device.settimeout(min(job_timeout or STATUS_TIMEOUT, STATUS_TIMEOUT))
            try:
                conn._raw(query)
                answer = conn._read()
            finally:
                device.settimeout(job_timeout)
        elif isinstance(device, serial.Serial):
            job_timeout = device.timeout
            device.timeout = min(job_timeout or STATUS_TIMEOUT, STATUS_TIMEOUT)
            try:
                conn._raw(query)
                answer = device.read(1)
            finally:
                device.timeout = job_timeout
        else:
            conn._raw(query)
            answer = conn._read()
        if not answer:
            raise DeviceTimeout(f"no answer to DLE EOT {n}", device=self.label)
        value = answer[-1]
        if value & STATUS_FIXED_MASK != STATUS_FIXED_BITS:
            raise DeviceIOError(
                f"unexpected answer {answer!r} to DLE EOT {n}; set printer.status_query = false "
                "if this model cannot report status",
                device=self.label,
            )
        return value

    def _probe(self) -> None:
        """Reachability check for printers that cannot report status (open and close the connection,
        or the connection's own cheaper check for write-only targets)."""
        if self._probe_target is not None:
            try:
                self._probe_target()
            except OSError as e:
                raise DeviceGone(str(e), device=self.label) from e
            return
        self._exchange(lambda conn: None, min(self.timeout, STATUS_TIMEOUT * 2))

    def _exchange(self, work: Callable[[Escpos], T], timeout: float) -> T:
        """Open a connection, run `work` on it, close it, all within `timeout` seconds (worker thread)."""
        with self._lock:
            if self._stuck is not None:
                if self._stuck.is_alive():
                    raise DeviceTimeout("the previous print is still blocked in the connection", device=self.label)
                self._stuck = None
            box: dict[str, object] = {}

            def run() -> None:
                conn: Escpos | None = None
                try:
                    # I/O gives up a little before the caller does, so a slow device fails with its own
                    # error instead of leaving a stuck thread behind.
                    conn = self._connect(timeout * IO_TIMEOUT_SHARE)
                    conn.open()
                    box["value"] = work(conn)
                except BaseException as e:  # noqa: BLE001 - handed back to the caller's thread
                    box["error"] = e
                finally:
                    if conn is not None:
                        try:
                            conn.close()
                        except Exception as e:  # noqa: BLE001
                            box.setdefault("error", e)

            worker = threading.Thread(target=run, name=f"printer-{self.connection}", daemon=True)
            worker.start()
            worker.join(timeout)
            if worker.is_alive():
                self._stuck = worker
                raise DeviceTimeout(f"no progress within {timeout:.1f} s", device=self.label)
        if "error" in box:
            raise as_device_error(box["error"], self.label)  # type: ignore[arg-type]
        return box.get("value")  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------- factory
def _check_cups_client() -> None:
    try:
        import cups  # noqa: F401
    except ImportError:
        if shutil.which("lp") is None:
            raise OSError("neither pycups nor the lp command (cups-client) is installed") from None


def _check_writable(path: str) -> None:
    target = path if os.path.exists(path) else (os.path.dirname(path) or ".")
    if not os.access(target, os.W_OK):
        raise OSError(f"cannot write {path}")


def _cups_connection(queue: str, profile: str) -> Escpos:
    """Raw CUPS queue: pycups when installed, else the `lp -o raw` command (cups-client)."""
    try:
        import cups  # noqa: F401
        from escpos.printer import CupsPrinter

        return CupsPrinter(printer_name=queue, profile=profile)
    except ImportError:
        from escpos.printer import LP

        return LP(printer_name=queue, profile=profile)


def open_printer(
    connection: str,
    *,
    profile: str = "TM-T20II",
    width_dots: int = 576,
    host: str = "127.0.0.1",
    port: int = 9100,
    usb_vendor: int = 0x04B8,
    usb_product: int = 0x0E15,
    serial_device: str = "/dev/ttyUSB0",
    baudrate: int = 19200,
    cups_queue: str = "",
    file_path: str = "",
    native_qr: bool = True,
    status_query: bool = True,
    timeout: float = 20.0,
) -> EscposPrinter:
    """Build the printer for a configured connection. Nothing is opened here: a printer that is off at
    start-up is reported by `status()` and works as soon as it is back."""
    connect: Connect
    probe: Callable[[], None] | None = None
    if connection == "network":
        label = f"network {host}:{port}"
        connect = lambda t: Network(host=host, port=port, timeout=t, profile=profile)  # noqa: E731
    elif connection == "usb":
        from escpos.printer import Usb

        label = f"usb {usb_vendor:04x}:{usb_product:04x}"
        connect = lambda t: Usb(usb_vendor, usb_product, timeout=int(t * 1000), profile=profile)  # noqa: E731
    elif connection == "serial":
        label = f"serial {serial_device}@{baudrate}"
        connect = lambda t: Serial(devfile=serial_device, baudrate=baudrate, timeout=t, profile=profile)  # noqa: E731
    elif connection == "cups":
        label = f"cups {cups_queue or '(default queue)'}"
        connect = lambda t: _cups_connection(cups_queue, profile)  # noqa: E731
        probe = _check_cups_client
    elif connection == "file":
        if not file_path:
            raise ValueError("printer.file_path is required for the file connection")
        label = f"file {file_path}"
        connect = lambda t: File(devfile=file_path, profile=profile)  # noqa: E731
        probe = lambda: _check_writable(file_path)  # noqa: E731
    else:
        raise ValueError(f"unknown printer connection {connection!r}; expected one of {', '.join(CONNECTIONS)}")
    return EscposPrinter(
        connect, connection=connection, profile=profile, width_dots=width_dots, native_qr=native_qr,
        status_query=status_query, timeout=timeout, label=label, probe=probe,
    )
