"""USB 2D scanners in CDC (virtual serial port) mode, via pyserial: each code arrives as one line ending in
CR and/or LF. This is the mode to configure for ID-card QR codes: unlike keyboard mode it carries the
Vietnamese UTF-8 text intact.

Also home of `ThreadedCodeReader`, the background-thread plumbing every real reader shares: a watcher
thread puts codes into a queue, `read(timeout)` takes them out, and a lost device is reported as
`DeviceGone` on the next read (codes read before the loss are still handed out first).
"""
from __future__ import annotations

import abc
import logging
import os
import queue
import threading

import serial

from drivers.base import CodeRead, CodeReader, DeviceGone, DeviceStatus, Health

log = logging.getLogger(__name__)

MAX_CODE_BYTES = 4096  # far above any payload we accept (2 KB); a longer "line" is noise and is dropped
MAX_QUEUED_CODES = 16
_GONE = object()
_STOPPED = object()


class ThreadedCodeReader(CodeReader):
    """A reader whose device is watched by one background thread (`_watch`) that calls `_deliver(text)`.

    Subclasses implement `_open()` (raise DeviceGone when the device cannot be opened), `_watch()` (loop
    until `self._stopping` is set; return or raise on device loss) and `_close()`.
    """

    def __init__(self, device: str) -> None:
        self.device = device
        self._codes: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._gone_detail = ""
        self._lock = threading.Lock()

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _watch(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    def _deliver(self, text: str) -> None:
        """Hand one decoded code to `read()`; when nobody reads, the oldest codes are dropped."""
        while self._codes.qsize() >= MAX_QUEUED_CODES:
            try:
                self._codes.get_nowait()
            except queue.Empty:
                break
        self._codes.put(CodeRead(text, source=self.driver))

    def _run(self) -> None:
        try:
            self._watch()
            if not self._stopping.is_set():
                self._mark_gone("device stopped delivering data")
        except DeviceGone as e:
            self._mark_gone(e.detail)
        except (OSError, serial.SerialException) as e:
            self._mark_gone(f"{type(e).__name__}: {e}")
        finally:
            try:
                self._close()
            except Exception:  # noqa: BLE001 - closing a vanished device may fail in any way
                log.debug("closing %s failed", self.driver, exc_info=True)

    def _mark_gone(self, detail: str) -> None:
        log.warning("code reader %s lost: %s", self.driver, detail)
        self._gone_detail = detail or "device lost"
        self._codes.put(_GONE)  # wakes a waiting read()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._gone_detail = ""
            self._codes = queue.Queue()
            try:
                self._open()
            except DeviceGone as e:
                self._gone_detail = e.detail
                raise
            except (OSError, serial.SerialException) as e:
                self._gone_detail = f"{type(e).__name__}: {e}"
                raise DeviceGone(self._gone_detail, device=self.device) from e
            self._thread = threading.Thread(target=self._run, name=f"code-reader-{self.driver}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            self._codes.put(_STOPPED)  # a read() waiting in another thread returns None now
            thread.join(timeout=2.0)

    def close(self) -> None:
        self.stop()

    def read(self, timeout: float) -> CodeRead | None:
        """The next code, None when none came within `timeout` (or the reader was stopped meanwhile);
        DeviceGone once the device is lost. A reader that is not started reads nothing: call start()."""
        if self._gone_detail and self._codes.empty():
            raise DeviceGone(self._gone_detail, device=self.device)
        try:
            item = self._codes.get(timeout=max(0.0, timeout)) if timeout > 0 else self._codes.get_nowait()
        except queue.Empty:
            return None
        if item is _GONE:
            self._codes.put(_GONE)  # every later read says so too, until start() reopens
            raise DeviceGone(self._gone_detail, device=self.device)
        if item is _STOPPED:
            return None
        return item

    def status(self) -> DeviceStatus:
        if self._gone_detail:
            return DeviceStatus(Health.FAILED, self._gone_detail, DeviceGone.kind)
        if self._thread is not None and self._thread.is_alive():
            return DeviceStatus(Health.OK, f"{self.driver} reader on {self.device}")
        return self._idle_status()

    def _idle_status(self) -> DeviceStatus:
        return DeviceStatus(Health.OK, f"{self.driver} reader on {self.device} (not started)")

    def describe(self) -> dict:
        return {**super().describe(), "device": str(self.device)}


class SerialReader(ThreadedCodeReader):
    """A scanner on a serial port (/dev/ttyACM0, /dev/serial/by-id/...) or any pyserial URL (loop://)."""

    driver = "serial"

    def __init__(self, device: str, baudrate: int = 9600) -> None:
        super().__init__(device)
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None

    def _open(self) -> None:
        try:
            self._port = serial.serial_for_url(self.device, baudrate=self.baudrate, timeout=0.1)
        except (OSError, serial.SerialException, ValueError) as e:
            raise DeviceGone(f"cannot open serial port: {type(e).__name__}", device=self.device) from e

    def _watch(self) -> None:
        port, pending = self._port, bytearray()
        dropping = False  # inside a runaway line: everything up to its end is noise, however it is chunked
        assert port is not None
        while not self._stopping.is_set():
            chunk = port.read(max(1, port.in_waiting))
            if not chunk:
                continue
            pending += chunk
            *lines, rest = pending.replace(b"\r", b"\n").split(b"\n")
            if dropping:
                if not lines:  # the runaway line goes on
                    pending = bytearray()
                    continue
                lines[0], dropping = bytearray(), False  # its tail, before the newline that ends it
            dropping = len(rest) > MAX_CODE_BYTES
            pending = bytearray() if dropping else bytearray(rest)
            for line in lines:
                if line and len(line) <= MAX_CODE_BYTES:
                    self._deliver(line.decode("utf-8", "replace"))

    def _close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def _idle_status(self) -> DeviceStatus:
        if "://" not in self.device and not os.path.exists(self.device):
            return DeviceStatus(Health.FAILED, f"no serial device at {self.device}", DeviceGone.kind)
        return super()._idle_status()
