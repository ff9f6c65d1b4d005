"""Device interfaces and the one error tree every driver maps its failures to.

The kiosk never sees a libsane status, an OSError or a USB error: each driver turns them into one of the
`DeviceError` subclasses below, and the kiosk turns those into Vietnamese messages with a next step.
Every blocking call takes a timeout.
"""
from __future__ import annotations

import abc
import dataclasses
import enum
from typing import ClassVar
from collections.abc import Callable, Sequence

from PIL import Image


# --------------------------------------------------------------------------------------------- errors
class DeviceError(Exception):
    """Base of every device failure. `kind` is a stable machine name used for messages, logs and doctor."""

    kind: ClassVar[str] = "device_error"

    def __init__(self, detail: str = "", *, device: str = "") -> None:
        super().__init__(detail or self.kind)
        self.detail = detail or self.kind
        self.device = device


class DeviceGone(DeviceError):
    """The device is unplugged, powered off or cannot be opened."""

    kind = "device_gone"


class DeviceTimeout(DeviceError):
    """The device did not answer in time (a hung backend is killed and reported as this)."""

    kind = "device_timeout"


class DeviceBusy(DeviceError):
    kind = "device_busy"


class PaperJam(DeviceError):
    kind = "paper_jam"


class NoDocuments(DeviceError):
    """The feeder is empty (or the flatbed has nothing to scan)."""

    kind = "no_documents"


class CoverOpen(DeviceError):
    kind = "cover_open"


class DeviceIOError(DeviceError):
    kind = "io_error"


class PaperOut(DeviceError):
    kind = "paper_out"


class PrinterOffline(DeviceError):
    kind = "printer_offline"


ERROR_KINDS: dict[str, type[DeviceError]] = {
    cls.kind: cls
    for cls in (
        DeviceError, DeviceGone, DeviceTimeout, DeviceBusy, PaperJam, NoDocuments, CoverOpen,
        DeviceIOError, PaperOut, PrinterOffline,
    )
}


# --------------------------------------------------------------------------------------------- common
class Health(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True)
class DeviceStatus:
    """What a device says about itself; `detail` is for technicians (English or technical, never shown to citizens)."""

    health: Health
    detail: str = ""
    error_kind: str = ""

    @property
    def ok(self) -> bool:
        return self.health is not Health.FAILED


class Device(abc.ABC):
    """Something the kiosk drives. `kind` is scanner / printer / code_reader; `driver` names the implementation."""

    kind: ClassVar[str] = ""
    driver: ClassVar[str] = ""

    @abc.abstractmethod
    def status(self) -> DeviceStatus:
        """Cheap health query (no paper moved)."""

    def describe(self) -> dict:
        return {"kind": self.kind, "driver": self.driver}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device. Safe to call twice."""


# --------------------------------------------------------------------------------------------- scanner
class ScanSource(str, enum.Enum):
    FEEDER = "feeder"
    FLATBED = "flatbed"


@dataclasses.dataclass
class ScanSettings:
    source: ScanSource = ScanSource.FEEDER
    dpi: int = 200
    mode: str = "gray"  # gray | color | lineart
    max_pages: int = 50


@dataclasses.dataclass
class ScannedPage:
    image: Image.Image
    dpi: int
    index: int = 0  # 0-based position in the batch that produced it


PageCallback = Callable[[ScannedPage], None]


class Scanner(Device):
    kind = "scanner"

    @abc.abstractmethod
    def scan(
        self,
        settings: ScanSettings,
        *,
        on_page: PageCallback | None = None,
        timeout: float = 60.0,
    ) -> list[ScannedPage]:
        """Scan a batch: every page in the feeder (or one flatbed page).

        Calls `on_page` as each page arrives so the screen can show a preview. Raises a DeviceError
        subclass on failure; pages that arrived before a failure were already passed to `on_page`
        and are attached to the error as `error.pages` so a jam at page 3 keeps pages 1-2.
        """


# --------------------------------------------------------------------------------------------- printer
@dataclasses.dataclass(frozen=True)
class ImageBlock:
    """A 1-bit (or grey, thresholded by the driver) image no wider than the head."""

    image: Image.Image


@dataclasses.dataclass(frozen=True)
class QrBlock:
    """A QR code; printed with the printer's native command where the profile supports it, raster otherwise."""

    payload: str
    size_dots: int = 200


@dataclasses.dataclass(frozen=True)
class FeedBlock:
    lines: int = 1


Block = ImageBlock | QrBlock | FeedBlock


@dataclasses.dataclass
class PrintJob:
    name: str
    blocks: Sequence[Block]
    cut: bool = True


@dataclasses.dataclass(frozen=True)
class PrinterStatus(DeviceStatus):
    paper_out: bool = False
    paper_low: bool = False
    cover_open: bool = False
    online: bool = True
    supported: bool = True  # False when the model cannot report status (then we print, but say so)


class Printer(Device):
    kind = "printer"
    width_dots: int = 512

    @abc.abstractmethod
    def status(self) -> PrinterStatus: ...

    @abc.abstractmethod
    def print_job(self, job: PrintJob, *, timeout: float = 20.0) -> bytes:
        """Send a job. Returns the exact bytes sent. Checks status first where the model supports it
        and raises PaperOut / CoverOpen / PrinterOffline instead of printing blind."""


# --------------------------------------------------------------------------------------------- code reader
@dataclasses.dataclass(frozen=True)
class CodeRead:
    """One decoded code. `text` is the payload as decoded (not yet validated: it may be hostile)."""

    text: str
    source: str = ""  # camera / hid / serial / fake


class CodeReader(Device):
    kind = "code_reader"

    @abc.abstractmethod
    def read(self, timeout: float) -> CodeRead | None:
        """Block up to `timeout` seconds for the next code; None when nothing was read in time."""

    def preview(self):  # -> numpy array (BGR) or None
        """The latest camera frame for the on-screen preview; readers without a camera return None."""
        return None

    def start(self) -> None:  # noqa: B027
        """Begin watching (camera on, HID grabbed). Idempotent."""

    def stop(self) -> None:  # noqa: B027
        """Stop watching and release the device to idle. Idempotent."""

