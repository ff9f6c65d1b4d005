"""The process that makes every libsane call for `drivers.sane_scanner.SaneScanner`.

A SANE backend can block forever inside C (a USB transfer that never completes) or crash the process.
Keeping libsane here, in a child process started by the kiosk, means the kiosk only ever waits on a pipe
with a timeout and can kill and restart this process. Run as a script:

    python _sane_worker.py <request-fd> <reply-fd>

Requests arrive as pickled dicts on <request-fd>; replies go back on <reply-fd> as tuples:
("hello", info) once at start, then per request ("page", {...})*, and one ("done", result) or
("error", kind, detail); a scan is then cleaned up (cancelled) and followed by ("ready",). `kind` is one of
the driver error kinds of drivers.base (this file imports nothing from the kiosk's packages so it can run by
path). Status strings are matched in English: the parent starts this process with LC_ALL=C / LANGUAGE=C.
"""
from __future__ import annotations

import faulthandler
import os
import signal
import sys
from multiprocessing.connection import Connection
from collections.abc import Mapping
from typing import Any

# sane_strstatus() texts (SANE 1.x, C locale) -> error kinds of drivers.base.
STATUS_KINDS = {
    "Device busy": "device_busy",
    "Document feeder jammed": "paper_jam",
    "Document feeder out of documents": "no_documents",
    "Scanner cover is open": "cover_open",
    "Error during device I/O": "io_error",
    "Access to resource has been denied": "device_gone",
    "Operation was canceled": "io_error",
    "Operation was cancelled": "io_error",
    "Out of memory": "io_error",
    "Operation not supported": "io_error",
    "Invalid argument": "io_error",
}
END_OF_FEEDER = "Document feeder out of documents"

# Names backends use for a source or a mode, lower-cased, tried in order. Feeders: simplex first.
SOURCE_NAMES = {
    "feeder": ("adf", "adf front", "automatic document feeder", "adf simplex", "feeder", "document feeder",
               "automatic document feeder(left aligned)", "automatic document feeder(centrally aligned)"),
    "flatbed": ("flatbed", "normal", "platen", "document table"),
}
SOURCE_WORDS = {"feeder": ("adf", "feeder", "document feeder"), "flatbed": ("flatbed", "platen", "glass")}
MODE_NAMES = {
    "gray": ("gray", "grey", "grayscale", "greyscale", "true gray", "8bit gray"),
    "color": ("color", "colour", "24bit color", "rgb"),
    "lineart": ("lineart", "binary", "black & white", "black and white", "bw", "monochrome"),
}
MODE_FALLBACK = {"gray": ("gray",), "color": ("color", "gray"), "lineart": ("lineart", "gray")}


class WorkerError(Exception):
    """A failure with a driver error kind, sent to the parent as ("error", kind, detail)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def classify(error: BaseException) -> str:
    return STATUS_KINDS.get(str(error), "io_error")


def pick_choice(wanted: str, choices: list[str], names: Mapping[str, tuple[str, ...]],
                words: Mapping[str, tuple[str, ...]] | None = None) -> str | None:
    """The device's own name for `wanted`: exact known names first, then any choice containing a keyword."""
    lowered = {c.lower().strip(): c for c in choices if isinstance(c, str)}
    for name in names.get(wanted, ()):
        if name in lowered:
            return lowered[name]
    for word in (words or names).get(wanted, ()):
        for low, original in lowered.items():
            if word in low and "duplex" not in low and "back" not in low:
                return original
    return None


def nearest_resolution(dpi: int, constraint: Any) -> float:
    """The allowed resolution closest to `dpi` (range with quant, or a list of values)."""
    if isinstance(constraint, tuple) and len(constraint) == 3:
        low, high, quant = constraint
        value = min(max(dpi, low), high)
        if quant:
            value = low + round((value - low) / quant) * quant
        return value
    if isinstance(constraint, list) and constraint:
        return min(constraint, key=lambda v: abs(v - dpi))
    return dpi


class Worker:
    def __init__(self, replies: Connection) -> None:
        import _sane  # noqa: PLC0415 - only the worker loads libsane
        import sane  # noqa: PLC0415

        self.sane = sane
        self.consts = _sane  # TYPE_*, OPTION_IS_* and SANE_WORD_SIZE live in the C module
        self.replies = replies
        self.version = sane.init()
        self.device: Any = None
        self.device_name = ""

    # ----------------------------------------------------------------- device handle
    def devices(self) -> list[dict[str, str]]:
        return [{"name": n, "vendor": v, "model": m, "type": t} for n, v, m, t in self.sane.get_devices()]

    def open(self, name: str) -> Any:
        """The open handle for `name` ("" = first device found); reopened after a failure closed it."""
        if self.device is not None and (not name or name == self.device_name):
            return self.device
        self.close_device()
        if not name:  # listing probes every bus (seconds on USB): only when no device is named
            found = self.sane.get_devices()
            if not found:
                raise WorkerError("device_gone", "no scanner found")
            name = found[0][0]
        try:
            self.device = self.sane.open(name)
        except Exception as error:  # noqa: BLE001 - _sane.error or RuntimeError, both mean "cannot open"
            raise WorkerError("device_gone", f"cannot open {name}: {error}") from None
        self.device_name = name
        return self.device

    def close_device(self) -> None:
        """Cancel, then close (never close a started scan). Failures are ignored: the handle may be dead."""
        device, self.device = self.device, None
        if device is None:
            return
        for step in (device.cancel, device.close):
            try:
                step()
            except Exception:  # noqa: BLE001
                pass

    def after_scan(self, failed_kind: str) -> None:
        """Cancel the scan (always: a started scan left behind can crash libsane at exit). After an I/O
        failure also close the handle, so the next scan reopens the device and finds out if it is gone.

        Runs after the reply is sent: some backends hang in sane_cancel() after an error, and the citizen
        should hear about the jam now, not when the kiosk's watchdog fires."""
        if self.device is None:
            return
        if failed_kind in ("io_error", "device_gone"):
            self.close_device()
        else:
            self.device.cancel()

    # ----------------------------------------------------------------- options
    def options(self) -> dict[str, dict[str, Any]]:
        """Active, readable scalar options with their values and constraints (for doctor)."""
        sane, dev, out = self.consts, self.device, {}
        for index, name, title, _desc, typ, unit, size, cap, constraint in dev.get_options():
            if not name or typ in (sane.TYPE_GROUP, sane.TYPE_BUTTON) or not sane.OPTION_IS_ACTIVE(cap):
                continue
            if typ in (sane.TYPE_INT, sane.TYPE_FIXED) and size > sane.SANE_WORD_SIZE:
                continue  # gamma tables and other arrays
            try:
                value = dev.dev.get_option(index)
            except Exception:  # noqa: BLE001 - write-only or failing options are just left out
                continue
            out[name] = {"title": title, "value": value, "constraint": constraint, "unit": unit,
                         "settable": bool(sane.OPTION_IS_SETTABLE(cap))}
        return out

    def set_option(self, name: str, value: Any, *, required: bool) -> bool:
        dev = self.device
        key = name.replace("-", "_")
        if key not in dev.opt or not dev.opt[key].is_active() or not dev.opt[key].is_settable():
            if required:
                raise WorkerError("device_error", f"option {name!r} not offered by {self.device_name}")
            return False
        option = dev.opt[key]
        if option.type == self.consts.TYPE_INT and isinstance(value, float):
            value = round(value)
        try:
            setattr(dev, key, value)
        except Exception as error:  # noqa: BLE001
            if required:
                raise WorkerError("device_error", f"cannot set {name}={value!r}: {error}") from None
            return False
        return True

    def constraint(self, name: str) -> Any:
        option = self.device.opt.get(name.replace("-", "_"))
        return option.constraint if option is not None and option.is_active() else None

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        """Map our source, mode and resolution onto the device's own option names and values."""
        applied: dict[str, Any] = {}
        sources = self.constraint("source")
        if isinstance(sources, list):
            choice = pick_choice(request["source"], sources, SOURCE_NAMES, SOURCE_WORDS)
            if choice is None:
                raise WorkerError("device_error", f"source {request['source']} not offered: {sources}")
            self.set_option("source", choice, required=True)
            applied["source"] = choice
        modes = self.constraint("mode")
        if isinstance(modes, list):
            for wanted in MODE_FALLBACK[request["mode"]]:
                choice = pick_choice(wanted, modes, MODE_NAMES)
                if choice is not None:
                    self.set_option("mode", choice, required=True)
                    applied["mode"] = choice
                    break
        depths = self.constraint("depth")
        if isinstance(depths, list) and 8 in depths and applied.get("mode", "").lower() not in MODE_NAMES["lineart"]:
            self.set_option("depth", 8, required=False)
        resolutions = self.constraint("resolution")
        if resolutions is not None:
            self.set_option("resolution", nearest_resolution(request["dpi"], resolutions), required=True)
        for name, value in request.get("options", {}).items():
            self.set_option(name, value, required=True)
        try:
            applied["dpi"] = float(self.device.resolution)
        except AttributeError:
            applied["dpi"] = float(request["dpi"])
        return applied

    # ----------------------------------------------------------------- requests
    def scan(self, request: dict[str, Any]) -> dict[str, Any]:
        dev = self.open(request["device"])
        applied = self.apply(request)
        feeder = request["source"] == "feeder"
        limit = max(1, int(request["max_pages"])) if feeder else 1
        count = 0
        while count < limit:  # the caller runs after_scan() whatever happens here
            try:
                dev.start()
                data, width, height, samples, _sample_size = dev.dev.snap(True, False, None)
            except Exception as error:  # noqa: BLE001 - _sane.error carries only the status text
                if feeder and count and str(error) == END_OF_FEEDER:
                    break  # the normal end of a feeder batch
                raise WorkerError(classify(error), str(error)) from None
            if not data:
                if feeder and count:
                    break  # some backends end a batch with an empty frame instead of NO_DOCS
                raise WorkerError("no_documents" if feeder else "io_error", "scanner returned no data")
            self.replies.send(("page", {"data": bytes(data), "width": width, "height": height,
                                        "samples": samples, "dpi": applied["dpi"], "index": count}))
            count += 1
        return {"pages": count, "applied": applied}

    def describe(self, request: dict[str, Any]) -> dict[str, Any]:
        self.open(request["device"])
        listed = {d[0]: d for d in self.sane.get_devices()}
        name, vendor, model, kind = listed.get(self.device_name, (self.device_name, "", "", ""))
        sources = self.constraint("source")
        mapping = {}
        if isinstance(sources, list):
            mapping = {ours: pick_choice(ours, sources, SOURCE_NAMES, SOURCE_WORDS) for ours in SOURCE_NAMES}
        return {"device": name, "vendor": vendor, "model": model, "type": kind,
                "sane_version": ".".join(str(v) for v in self.version[1:]), "sources": mapping,
                "options": self.options()}

    def status(self, request: dict[str, Any]) -> dict[str, Any]:
        dev = self.open(request["device"])
        try:
            dev.get_parameters()
        except Exception as error:  # noqa: BLE001
            raise WorkerError(classify(error), str(error)) from None
        return {"device": self.device_name}

    def handle(self, request: dict[str, Any]) -> Any:
        op = request.get("op")
        if op == "devices":
            return self.devices()
        if op == "scan":
            return self.scan(request)
        if op == "describe":
            return self.describe(request)
        if op == "status":
            return self.status(request)
        raise WorkerError("device_error", f"unknown request {op!r}")


def serve(requests: Connection, replies: Connection) -> None:
    try:
        worker = Worker(replies)
    except Exception as error:  # noqa: BLE001 - no libsane, or init failed
        replies.send(("error", "device_gone", f"SANE unavailable: {type(error).__name__}: {error}"))
        return
    try:
        replies.send(("hello", {"pid": os.getpid(), "sane_version": worker.version}))
        while True:
            try:
                request = requests.recv()
            except EOFError:
                break  # the kiosk closed the pipe or died: nothing left to do
            if request.get("op") == "quit":
                break
            try:
                reply: tuple = ("done", worker.handle(request))
            except WorkerError as error:
                reply = ("error", error.kind, error.detail)
            except (BrokenPipeError, ConnectionResetError):
                raise  # nobody is listening any more
            except Exception as error:  # noqa: BLE001 - report, keep serving
                reply = ("error", classify(error), f"{type(error).__name__}: {error}")
            replies.send(reply)
            if request.get("op") == "scan":
                try:
                    worker.after_scan(reply[1] if reply[0] == "error" else "")
                except Exception as error:  # noqa: BLE001 - a dead handle; the next scan reopens it
                    print(f"sane worker: cleanup after scan failed: {error}", file=sys.stderr)
                    worker.device = None
                replies.send(("ready",))
    finally:
        # Cancel and close even when the kiosk vanished mid-batch: a started scan left behind can
        # crash libsane at exit and leave the scanner waiting.
        try:
            worker.close_device()
        finally:
            worker.sane.exit()


def main(argv: list[str]) -> int:
    # A crash in a backend, or SIGUSR1 from the kiosk before it kills a hung worker, leaves the Python
    # stack on stderr (the journal): the technician sees which libsane call never returned.
    faulthandler.enable()
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    requests = Connection(int(argv[1]), writable=False)
    replies = Connection(int(argv[2]), readable=False)
    # Backends sometimes print to stdout; keep fd 1 pointing at stderr so nothing is lost or mixed in.
    os.dup2(2, 1)
    try:
        serve(requests, replies)
    except (BrokenPipeError, ConnectionResetError):
        return 1  # the kiosk went away mid-reply
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
