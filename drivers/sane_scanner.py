"""Real document scanners through SANE (python-sane), with every libsane call in a worker process.

A SANE backend can hang inside a USB transfer or crash the interpreter. Here libsane lives only in
`drivers/_sane_worker.py`, a child process; this side waits on a pipe with a timeout. When the worker
stays silent too long it is killed (DeviceTimeout) and a fresh one starts with the next call; when it dies
mid-scan the pages already received are kept on the error. Pages are sent back one by one as the feeder
moves them, so the screen can show a preview while the rest of the batch is still scanning.

Errors are the DeviceError kinds of drivers.base; kiosk/messages.py turns them into Vietnamese.
Needs the 'sane' extra (python-sane, built against Debian's libsane-dev). Tests run against SANE's own
`test` backend with SANE_CONFIG_DIR=tests/sane.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from PIL import Image

from drivers.base import (
    ERROR_KINDS,
    DeviceError,
    DeviceGone,
    DeviceIOError,
    DeviceStatus,
    DeviceTimeout,
    Health,
    PageCallback,
    ScannedPage,
    Scanner,
    ScanSettings,
)

__all__ = ["SaneScanner", "list_devices"]

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("_sane_worker.py")
_START_TIMEOUT = 15.0  # python start-up + sane_init (network backends can take a few seconds)
_QUIT_GRACE = 2.0
_CLEANUP_GRACE = 10.0  # cancelling a batch can take a while on a real feeder (it ejects the paper)

OptionValue = str | int | float | bool

class _WorkerDied(Exception):
    pass


class _SaneWorker:
    """One child process running _sane_worker.py and the two pipes to it."""

    def __init__(self) -> None:
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        env = dict(os.environ, LC_ALL="C", LANGUAGE="C")  # English status texts, matched by the worker
        try:
            self.process = subprocess.Popen(
                # -P: the script's folder (drivers/) must not shadow modules of the same name.
                [sys.executable, "-P", str(WORKER_SCRIPT), str(to_worker_r), str(from_worker_w)],
                pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL, env=env, close_fds=True,
            )
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
        self.requests = Connection(to_worker_w, readable=False)
        self.replies = Connection(from_worker_r, writable=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, request: dict[str, Any]) -> None:
        try:
            self.requests.send(request)
        except OSError as error:
            raise _WorkerDied(f"cannot reach the scanner worker: {error}") from None

    def receive(self, timeout: float) -> tuple | None:
        """The next reply, or None when nothing came within `timeout` seconds."""
        try:
            if not self.replies.poll(max(0.0, timeout)):
                return None
            return self.replies.recv()
        except (EOFError, OSError):
            try:
                code = self.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
            how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            raise _WorkerDied(f"scanner worker died ({how})") from None

    def stop(self) -> None:
        """Ask politely, then kill: a worker stuck in a backend never reads the quit request."""
        if self.alive():
            try:
                self.requests.send({"op": "quit"})
                self.process.wait(timeout=_QUIT_GRACE)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self._close_pipes()

    def dump_stack(self) -> None:
        """Ask a hung worker to print where it is stuck (faulthandler on SIGUSR1) before it is killed."""
        if self.alive():
            try:
                self.process.send_signal(signal.SIGUSR1)
                time.sleep(0.1)  # a stopped process prints nothing; do not wait for it
            except OSError:
                pass

    def kill(self) -> None:
        if self.alive():
            self.process.kill()  # SIGKILL also ends a stopped (SIGSTOP) process
            try:
                self.process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                log.error("scanner worker %s did not die after SIGKILL", self.pid)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for conn in (self.requests, self.replies):
            try:
                conn.close()
            except OSError:
                pass


def _to_image(page: Mapping[str, Any], mode: str) -> Image.Image:
    """The page's raw samples as a PIL image in the mode the caller asked for."""
    pil_mode = "RGB" if page["samples"] == 3 else "L"
    image = Image.frombytes(pil_mode, (page["width"], page["height"]), page["data"])
    if mode == "gray" and image.mode != "L":
        image = image.convert("L")
    elif mode == "color" and image.mode != "RGB":
        image = image.convert("RGB")
    elif mode == "lineart":
        # A fixed threshold, not Pillow's dithering: text stays crisp, as in a scanner's own lineart mode.
        image = image.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    dpi = round(page["dpi"])
    image.info["dpi"] = (dpi, dpi)
    return image


class SaneScanner(Scanner):
    """A SANE scanner. `device` is a SANE name ("fujitsu:fi-7160:12345"); empty means the first one found.

    `timeout` is how long the device may stay silent (before the first page, between pages, or for any
    other call) before the worker is killed and DeviceTimeout raised; `scan(timeout=...)` overrides it
    for one batch. `options` are extra device options set before each scan, by their SANE names
    (e.g. {"page-height": 297} or, for the test backend, {"test-picture": "Grid"}).
    """

    driver = "sane"

    def __init__(self, device: str = "", *, timeout: float = 90.0,
                 options: Mapping[str, OptionValue] | None = None) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self.device = device
        self.timeout = timeout
        self.options = dict(options or {})
        self._worker: _SaneWorker | None = None
        # After a scan the worker cancels it and says "ready". After a failed scan it is also replaced:
        # backends are least trustworthy after an error (the test backend can deadlock in the next
        # sane_start), and a fresh process costs a fraction of a second.
        self._cleanup_pending = False
        self._restart_after_cleanup = False
        self._lock = threading.Lock()  # one conversation with the worker at a time

    # ------------------------------------------------------------------ public API
    @property
    def worker_pid(self) -> int | None:
        """The worker's process id (for diagnostics and fault-injection tests); None when none runs."""
        worker = self._worker
        return worker.pid if worker is not None and worker.alive() else None

    def list_devices(self) -> list[dict]:
        """Scanners SANE can see: [{"name", "vendor", "model", "type"}, ...]."""
        with self._lock:
            return self._call({"op": "devices"}, self.timeout)

    def describe(self) -> dict:
        """Vendor, model, SANE version, our source names mapped to the device's, and its options."""
        info = {**super().describe(), "device": self.device or "(first found)", "timeout": self.timeout}
        try:
            with self._lock:
                info.update(self._call({"op": "describe", "device": self.device}, self.timeout))
        except DeviceError as error:
            info.update(error=error.kind, detail=error.detail)
        return info

    def status(self) -> DeviceStatus:
        """Opens the device if needed and reads its parameters: no paper moves. While a scan runs the
        scanner is reported healthy without disturbing it."""
        if not self._lock.acquire(blocking=False):
            return DeviceStatus(Health.OK, "scanning")
        try:
            self._call({"op": "status", "device": self.device}, min(self.timeout, 15.0))
        except DeviceError as error:
            health = Health.WARNING if error.kind in ("device_busy", "cover_open", "paper_jam") else Health.FAILED
            return DeviceStatus(health, error.detail, error.kind)
        finally:
            self._lock.release()
        return DeviceStatus(Health.OK, "ready")

    def scan(self, settings: ScanSettings, *, on_page: PageCallback | None = None,
             timeout: float | None = None) -> list[ScannedPage]:
        """Scan a feeder batch (until the feeder is empty or `settings.max_pages`) or one flatbed page.

        `on_page` runs in the calling thread as each page arrives. On failure the DeviceError carries the
        pages received so far in `error.pages`. Each page's `dpi` is the resolution the device really
        used: the nearest it offers to `settings.dpi`.
        """
        silence = self.timeout if timeout is None else timeout
        request = {
            "op": "scan", "device": self.device, "source": settings.source.value, "dpi": settings.dpi,
            "mode": settings.mode, "max_pages": settings.max_pages, "options": self.options,
        }
        pages: list[ScannedPage] = []

        def take(page: Mapping[str, Any]) -> None:
            scanned = ScannedPage(image=_to_image(page, settings.mode), dpi=round(page["dpi"]), index=len(pages))
            pages.append(scanned)
            if on_page is not None:
                on_page(scanned)

        started = time.monotonic()
        try:
            with self._lock:
                self._call(request, silence, on_page=take)
        except DeviceError as error:
            error.pages = pages  # type: ignore[attr-defined]
            log.warning("scan failed after %d page(s): %s (%s)", len(pages), error.kind, error.detail)
            raise
        log.info("scanned %d page(s) at %d dpi in %.1f s", len(pages), settings.dpi, time.monotonic() - started)
        return pages

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()  # the worker reads "quit" after cancelling the last scan
                self._worker = None
            self._cleanup_pending = False

    # ------------------------------------------------------------------ worker conversation
    def _ensure_worker(self) -> _SaneWorker:
        if self._worker is not None and self._worker.alive():
            return self._worker
        if self._worker is not None:  # died while idle (or was killed): not the citizen's problem
            log.warning("scanner worker %s exited while idle; starting a new one", self._worker.pid)
            self._worker.kill()
        try:
            worker = _SaneWorker()
        except OSError as error:
            raise DeviceGone(f"cannot start the scanner worker: {error}", device=self.device) from None
        self._worker = worker
        reply = self._receive(worker, _START_TIMEOUT, "starting SANE")
        if reply[0] == "error":
            self._drop_worker()
            raise ERROR_KINDS.get(reply[1], DeviceError)(reply[2], device=self.device)
        return worker

    def _await_cleanup(self) -> None:
        """Wait for the worker to finish cancelling the previous scan; replace it if it hangs there."""
        if not self._cleanup_pending or self._worker is None:
            return
        self._cleanup_pending = False
        worker = self._worker
        grace = min(self.timeout, _CLEANUP_GRACE)
        try:
            reply = worker.receive(grace)
        except _WorkerDied:
            reply = None
        if reply == ("ready",):
            if self._restart_after_cleanup:
                worker.stop()  # a polite quit: it closes the device and exits
                self._worker = None
            return
        log.warning("scanner worker %s stuck cancelling the last scan for %.0f s; replacing it", worker.pid, grace)
        worker.dump_stack()
        self._drop_worker()

    def _call(self, request: dict[str, Any], silence: float, *,
              on_page: Callable[[Mapping[str, Any]], None] | None = None) -> Any:
        """Send one request and wait for its answer; `silence` restarts with every page that arrives."""
        self._await_cleanup()
        worker = self._ensure_worker()
        try:
            worker.send(request)
        except _WorkerDied as died:
            self._drop_worker()
            raise DeviceIOError(str(died), device=self.device) from None
        while True:
            reply = self._receive(worker, silence, request["op"])
            tag = reply[0]
            if tag == "page" and on_page is not None:
                try:
                    on_page(reply[1])
                except BaseException:
                    # The worker is still sending this batch; its leftover pages would be read as the
                    # answer to the next request. A fresh worker is the only clean way back in step.
                    self._drop_worker()
                    raise
            elif tag == "done":
                self._cleanup_pending = request["op"] == "scan"
                self._restart_after_cleanup = False
                return reply[1]
            elif tag == "error":
                self._cleanup_pending = self._restart_after_cleanup = request["op"] == "scan"
                _, kind, detail = reply
                raise ERROR_KINDS.get(kind, DeviceError)(detail, device=self.device)

    def _receive(self, worker: _SaneWorker, silence: float, doing: str) -> tuple:
        try:
            reply = worker.receive(silence)
        except _WorkerDied as died:
            self._drop_worker()
            # The backend crashed or the process was killed (e.g. the USB device vanished under it).
            raise DeviceIOError(str(died), device=self.device) from None
        if reply is None:
            log.error("scanner silent for %.1f s while %s; killing worker %s (its stack follows on stderr)",
                      silence, doing, worker.pid)
            worker.dump_stack()
            self._drop_worker()
            raise DeviceTimeout(f"no answer from the scanner for {silence:.0f} s while {doing}", device=self.device)
        return reply

    def _drop_worker(self) -> None:
        self._cleanup_pending = False
        if self._worker is not None:
            self._worker.kill()
            self._worker = None


def list_devices(*, timeout: float = 30.0) -> list[dict]:
    """Scanners SANE can see, from a short-lived worker (for `kiosk doctor` and provisioning)."""
    scanner = SaneScanner(timeout=timeout)
    try:
        return scanner.list_devices()
    finally:
        scanner.close()
