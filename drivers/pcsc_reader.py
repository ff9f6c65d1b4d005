"""The chip ID card over a PC/SC contactless reader: pcscd + pyscard (low-level `smartcard.scard` API).

Every pyscard call runs on a daemon worker thread with a deadline: pyscard's SCardTransmit has no timeout of
its own, and a hung reader or a stuck pcscd would otherwise freeze the kiosk. A call past its deadline raises
DeviceTimeout and the stuck worker is abandoned (a new one serves the next call).

PC/SC failures map to the kiosk's typed errors:
  pcscd not running / socket gone         -> DeviceGone (detail tells the technician to start pcscd)
  no reader / the configured reader gone  -> DeviceGone
  card taken away / reset / mute mid-read -> CardRemoved
  no card within the wait                 -> NoCard (from read) or False (from wait_for_card)
"""
from __future__ import annotations

import logging
import pathlib
import queue
import threading
import time
from typing import Any
from collections.abc import Callable

from drivers.base import DeviceGone, DeviceStatus, DeviceTimeout, Health
from drivers.chip import BacKeys, CardRemoved, ChipIdentity, ChipReader, CscaStore, NoCard, read_identity

log = logging.getLogger(__name__)

try:
    from smartcard import scard
except ImportError:  # pragma: no cover - reported by status()/calls
    scard = None

_NO_SERVICE = {0x8010001D, 0x8010001E}  # no service, service stopped
_NO_READER = {0x8010002E, 0x80100009, 0x80100017}  # no readers, unknown reader, reader unavailable
# removed, no smartcard, reset, unresponsive, unpowered, not transacted, comm error
_CARD_GONE = {0x80100069, 0x8010000C, 0x80100068, 0x80100066, 0x80100067, 0x80100016, 0x80100013}
_INVALID_HANDLE = {0x80100003}
SCARD_E_TIMEOUT = 0x8010000A

PCSCD_HINT = ("pcscd is not running or not reachable: start it (`systemctl start pcscd.socket` or run `pcscd`), "
              "check the reader driver (pcscd --foreground --debug)")


def _u32(code: int) -> int:
    return code & 0xFFFFFFFF


class _Worker:
    """One daemon thread that runs calls in order; a call over its deadline leaves the thread behind."""

    def __init__(self) -> None:
        self._q: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="pcsc-call", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            fn, args, box, done = job
            try:
                box.append((True, fn(*args)))
            except BaseException as exc:  # noqa: BLE001
                box.append((False, exc))
            done.set()

    def call(self, fn: Callable, args: tuple, timeout: float) -> Any:
        box: list = []
        done = threading.Event()
        self._q.put((fn, args, box, done))
        if not done.wait(timeout):
            raise TimeoutError
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        self._q.put(None)


class PcscChipReader(ChipReader):
    driver = "pcsc"

    def __init__(self, reader: str = "", *, csca: CscaStore | str | pathlib.Path | None = None,
                 require_passive_auth: bool = True, call_timeout: float = 5.0) -> None:
        """`reader`: a substring of the PC/SC reader name (empty: the first reader). `csca`: a CscaStore or
        the path of a PEM/DER bundle file or folder. `call_timeout`: the deadline of one PC/SC call."""
        self.reader_match = reader
        self.csca = CscaStore.load(csca) if isinstance(csca, (str, pathlib.Path)) else csca
        self.require_passive_auth = require_passive_auth
        self.call_timeout = call_timeout
        self._worker: _Worker | None = None
        self._ctx = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ guarded calls
    def _call(self, fn: Callable, *args, timeout: float | None = None, what: str = "pcsc") -> Any:
        if scard is None:
            raise DeviceGone("pyscard is not installed", device=self.driver)
        if self._worker is None:
            self._worker = _Worker()
        try:
            return self._worker.call(fn, args, self.call_timeout if timeout is None else timeout)
        except TimeoutError:
            log.warning("chip: %s did not return in time; abandoning the PC/SC worker", what)
            self._worker = None  # the old thread is stuck in the call; it is a daemon
            self._ctx = None
            raise DeviceTimeout(f"{what} did not answer within its deadline (reader or pcscd hung)",
                                device=self.driver) from None

    def _check(self, hresult: int, what: str, *, card_phase: bool = False) -> None:
        code = _u32(hresult)
        if code == 0:
            return
        if code in _NO_SERVICE or code in _INVALID_HANDLE:
            self._ctx = None
            raise DeviceGone(f"{what}: {PCSCD_HINT} (0x{code:08X})", device=self.driver)
        if code in _NO_READER:
            self._ctx = None
            raise DeviceGone(f"{what}: the contactless reader is unplugged or not found (0x{code:08X})",
                             device=self.driver)
        if code in _CARD_GONE and card_phase:
            raise CardRemoved(f"{what}: card removed or stopped answering (0x{code:08X})", device=self.driver)
        if code == SCARD_E_TIMEOUT:
            raise DeviceTimeout(f"{what}: timed out", device=self.driver)
        if code in _CARD_GONE:
            raise NoCard(f"{what}: no card (0x{code:08X})", device=self.driver)
        raise DeviceGone(f"{what}: PC/SC error 0x{code:08X}", device=self.driver)

    def _context(self):
        if self._ctx is None:
            hresult, ctx = self._call(scard.SCardEstablishContext, scard.SCARD_SCOPE_USER, what="SCardEstablishContext")
            self._check(hresult, "SCardEstablishContext")
            self._ctx = ctx
        return self._ctx

    def readers(self) -> list[str]:
        ctx = self._context()
        hresult, names = self._call(scard.SCardListReaders, ctx, [], what="SCardListReaders")
        if _u32(hresult) == 0x8010002E:
            return []
        self._check(hresult, "SCardListReaders")
        return list(names)

    def _reader_name(self) -> str:
        names = self.readers()
        for n in names:
            if self.reader_match in n:
                return n
        if not names:
            raise DeviceGone("no PC/SC reader is connected (contactless reader unplugged?)", device=self.driver)
        raise DeviceGone("the configured contactless reader is not connected", device=self.driver)

    # ------------------------------------------------------------------ ChipReader
    def card_present(self, timeout: float = 2.0) -> bool:
        name = self._reader_name()
        ctx = self._context()
        hresult, states = self._call(scard.SCardGetStatusChange, ctx, 0, [(name, scard.SCARD_STATE_UNAWARE)],
                                     timeout=timeout, what="SCardGetStatusChange")
        self._check(hresult, "SCardGetStatusChange")
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)

    def wait_for_card(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        name = self._reader_name()
        ctx = self._context()
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = deadline - time.monotonic()
            wait_ms = max(0, int(min(left, 1.0) * 1000))
            hresult, states = self._call(scard.SCardGetStatusChange, ctx, wait_ms, [(name, state)],
                                         timeout=wait_ms / 1000 + self.call_timeout, what="SCardGetStatusChange")
            if _u32(hresult) != SCARD_E_TIMEOUT:
                self._check(hresult, "SCardGetStatusChange")
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if state & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_MUTE:
                    return True
            if time.monotonic() >= deadline:
                return False

    def read(self, keys: BacKeys, *, include_photo: bool = True, timeout: float = 15.0) -> ChipIdentity:
        deadline = time.monotonic() + timeout
        with self._lock:
            name = self._reader_name()
            ctx = self._context()
            try:
                hresult, hcard, proto = self._call(
                    scard.SCardConnect, ctx, name, scard.SCARD_SHARE_SHARED,
                    scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1, what="SCardConnect")
            except DeviceTimeout:
                raise
            self._check(hresult, "SCardConnect")  # no card -> NoCard
            try:
                def transmit(apdu: bytes) -> bytes:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise DeviceTimeout("chip read took longer than its timeout", device=self.driver)
                    hresult, resp = self._call(scard.SCardTransmit, hcard, proto, list(apdu),
                                               timeout=min(left, self.call_timeout), what="SCardTransmit")
                    self._check(hresult, "SCardTransmit", card_phase=True)
                    out = bytes(resp)
                    if len(out) < 2:  # no status word: the card left mid-command (vpcd reports it this way)
                        raise CardRemoved("SCardTransmit: empty response, card removed", device=self.driver)
                    if len(out) == 2 and out[0] == 0x61:  # T=0: fetch the answer
                        return transmit(bytes([0x00, 0xC0, 0x00, 0x00, out[1]]))
                    if len(out) == 2 and out[0] == 0x6C:  # T=0: wrong Le, resend with the right one
                        return transmit(apdu[:-1] + out[1:2])
                    return out

                return read_identity(transmit, keys, csca=self.csca, include_photo=include_photo,
                                     deadline=deadline, device=self.driver,
                                     require_passive_auth=self.require_passive_auth)
            finally:
                if self._worker is not None:
                    try:
                        self._call(scard.SCardDisconnect, hcard, scard.SCARD_RESET_CARD, timeout=1.0,
                                   what="SCardDisconnect")
                    except DeviceTimeout:
                        pass

    def status(self) -> DeviceStatus:
        try:
            names = self.readers()
            if not names:
                return DeviceStatus(Health.FAILED, "pcscd runs but no contactless reader is connected",
                                    DeviceGone.kind)
            name = next((n for n in names if self.reader_match in n), None)
            if name is None:
                return DeviceStatus(Health.FAILED, f"configured reader not found; readers: {', '.join(names)}",
                                    DeviceGone.kind)
            present = self.card_present(timeout=2.0)
            csca = f"{len(self.csca.certs)} CSCA certificate(s)" if self.csca else "no CSCA bundle"
            if not self.csca or not self.csca.certs:
                return DeviceStatus(Health.WARNING, f"reader {name}; {csca}: passive authentication will fail")
            return DeviceStatus(Health.OK, f"reader {name}; card {'present' if present else 'absent'}; {csca}")
        except (DeviceGone, DeviceTimeout) as exc:
            return DeviceStatus(Health.FAILED, exc.detail, exc.kind)

    def describe(self) -> dict:
        return {"kind": self.kind, "driver": self.driver, "reader": self.reader_match or "(first)"}

    def close(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None and self._worker is not None:
            try:
                self._call(scard.SCardReleaseContext, ctx, timeout=1.0, what="SCardReleaseContext")
            except DeviceTimeout:
                pass
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
