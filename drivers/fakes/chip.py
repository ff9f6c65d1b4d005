"""A chip-card reader with no hardware, for the demo, `kiosk simulate` and tests.

Behaves like `PcscChipReader`: `wait_for_card` blocks until a card is "put down" (`present()`), `read` takes
about as long as a real read (defaults are estimates for a CCID contactless reader at 106-424 kbit/s under 3DES
secure messaging: ~1.2 s for BAC + EF.COM + DG1 + DG13 + EF.SOD, ~2 s more for a 15-20 kB DG2 face; not measured
on real hardware), honours its timeout, and fails with the same typed errors.

Two ways to give it a card:
* nothing: the demo card — the synthetic citizen of `domain.md` on the virtual CCCD (drivers/fakes/vcard_card.py),
  personalised at first use (cached per process) with an EF.SOD signed by the demo CSCA (`demo_pki()`: fixed
  keys, never a real authority; its certificate is written to `demo_csca_bundle()`, the bundle the demo
  configures). The real ICAO code reads it: BAC (the keys must match: `FakeChipReader.DEMO_KEYS` or the demo QR
  `DEMO_ID_CARD_QR`, else CardAccessDenied like a real chip), secure messaging, passive authentication;
* `card=`: any card-side APDU responder with `respond(apdu: bytes) -> bytes` (the tests pass the virtual CCCD
  of tests/vcard).
Either way the bytes and the verdict are real; `csca=` (a CscaStore or a bundle path) is what is trusted,
by default the demo CSCA.

Faults: "removed" (CardRemoved half-way), "access_denied", "not_trusted", "expired", "gone" (DeviceGone: reader
unplugged or pcscd down), "timeout" (hangs until the call's timeout, then DeviceTimeout).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import pathlib
import threading
import time
from typing import Protocol

from drivers.base import DeviceGone, DeviceStatus, DeviceTimeout, Health
from drivers.chip import (
    BacKeys,
    CardAccessDenied,
    CardExpired,
    CardNotTrusted,
    CardRemoved,
    ChipIdentity,
    ChipReader,
    CscaStore,
    NoCard,
    read_identity,
)

FAULTS = ("", "removed", "access_denied", "not_trusted", "expired", "gone", "timeout")


class CardResponder(Protocol):
    def respond(self, apdu: bytes) -> bytes: ...


#: The demo card's front QR (the domain.md example; its BAC keys are FakeChipReader.DEMO_KEYS).
DEMO_ID_CARD_QR = "001090012345|123456789|Nguyễn Văn An|01011990|Nam|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|15082021"
DEMO_PKI_SEED = b"DVC Kiosk demo CSCA - not a real authority"
DEMO_CSCA_NAME = "CSCA Demo VN (DVC Kiosk, not a real authority)"
_demo_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def demo_pki():
    """The demo CSCA and Document Signer: the same keys in every process (derived from DEMO_PKI_SEED)."""
    from drivers.fakes.vcard_files import TestPki

    return TestPki.generate(DEMO_CSCA_NAME, seed=DEMO_PKI_SEED)


def demo_csca_bundle(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """The demo CSCA's certificate as a PEM bundle, written at first use to the user's cache (atomically)."""
    base = pathlib.Path(cache_dir or os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    path = base / "dvc-kiosk" / "demo-csca.pem"
    pem = demo_pki().csca_pem()
    with _demo_lock:
        try:
            if path.read_bytes() == pem:
                return path
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.replace(tmp, path)
    return path


@functools.lru_cache(maxsize=1)
def _demo_files() -> dict[int, bytes]:
    from drivers.fakes.vcard_files import build_card_files, default_profile

    return build_card_files(default_profile(), demo_pki())


def demo_card():
    """A fresh demo CCCD (the card side answers APDUs; its files are built once per process)."""
    from drivers.fakes.vcard_card import VirtualCccd

    return VirtualCccd(_demo_files(), (FakeChipReader.DEMO_KEYS.document_number, FakeChipReader.DEMO_KEYS.birth_date,
                                       FakeChipReader.DEMO_KEYS.expiry_date))


class FakeChipReader(ChipReader):
    driver = "fake"
    DEMO_KEYS = BacKeys("090012345", "900101", "300101")

    def __init__(self, *, card: CardResponder | None = None, csca: CscaStore | str | os.PathLike | None = None,
                 fault: str = "", base_delay: float = 1.2, photo_delay: float = 2.0, present: bool = False) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fake chip-reader fault {fault!r}; use one of {FAULTS}")
        self.card = card
        if csca is None:
            csca = CscaStore([demo_pki().csca_cert])
        elif not isinstance(csca, CscaStore):
            csca = CscaStore.load(csca)
        self.csca = csca
        self.fault = fault
        self.base_delay = base_delay
        self.photo_delay = photo_delay
        self._present = present
        self._changed = threading.Condition()
        self.reads = 0

    # ------------------------------------------------------------------ what tests and the demo call
    def present(self, card: CardResponder | None = None) -> None:
        """A citizen puts a card on the reader (optionally a different card-side responder)."""
        with self._changed:
            if card is not None:
                self.card = card
            self._present = True
            self._changed.notify_all()

    def remove(self) -> None:
        with self._changed:
            self._present = False
            self._changed.notify_all()

    # ------------------------------------------------------------------ ChipReader
    def _gone(self) -> None:
        if self.fault == "gone":
            raise DeviceGone("fake: contactless reader unplugged / pcscd not running", device=self.driver)

    def card_present(self, timeout: float = 2.0) -> bool:
        self._gone()
        return self._present

    def wait_for_card(self, timeout: float) -> bool:
        self._gone()
        if self.fault == "timeout":
            time.sleep(timeout)
            raise DeviceTimeout("fake: reader hung", device=self.driver)
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._present:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def _sleep(self, seconds: float, deadline: float) -> None:
        left = deadline - time.monotonic()
        if seconds > left:
            time.sleep(max(0.0, left))
            raise DeviceTimeout("chip read took longer than its timeout", device=self.driver)
        time.sleep(seconds)
        if not self._present:
            raise CardRemoved("fake: card taken away during the read", device=self.driver)

    def read(self, keys: BacKeys, *, include_photo: bool = True, timeout: float = 15.0) -> ChipIdentity:
        deadline = time.monotonic() + timeout
        self._gone()
        if not self._present:
            raise NoCard("fake: no card on the reader", device=self.driver)
        self.reads += 1
        total = self.base_delay + (self.photo_delay if include_photo else 0.0)
        if self.fault == "timeout":
            self._sleep(timeout + 1.0, deadline)
        if self.fault == "removed":
            self._sleep(total / 2, deadline)
            self._present = False
            raise CardRemoved("fake: card taken away during the read", device=self.driver)
        if self.fault == "access_denied":
            self._sleep(0.2 * self.base_delay, deadline)
            raise CardAccessDenied("BAC refused by the chip (wrong keys or PACE-only chip)", device=self.driver)
        started = time.monotonic()
        ident = self._read_card(keys, include_photo, deadline)
        self._sleep(max(0.0, total - (time.monotonic() - started)), deadline)
        if self.fault == "not_trusted":
            res = dataclasses.replace(ident.passive_auth, ok=False, failure="dg_hash_mismatch")
            raise CardNotTrusted("passive authentication failed: dg_hash_mismatch", device=self.driver, result=res)
        if self.fault == "expired":
            ident = dataclasses.replace(ident, expiry_date=dt.date.today() - dt.timedelta(days=1))
        if ident.expired:
            raise CardExpired("the card is past its expiry date", device=self.driver, identity=ident)
        return ident

    def _read_card(self, keys: BacKeys, include_photo: bool, deadline: float) -> ChipIdentity:
        if self.card is None:
            self.card = demo_card()
        card = self.card
        if hasattr(card, "reset"):
            card.reset()  # each read connects afresh (like SCardConnect powering the card): a new BAC session

        def transmit(apdu: bytes) -> bytes:
            if not self._present:
                raise CardRemoved("fake: card taken away during the read", device=self.driver)
            return card.respond(apdu)

        return read_identity(transmit, keys, csca=self.csca, include_photo=include_photo, deadline=deadline,
                             device=self.driver)

    def status(self) -> DeviceStatus:
        if self.fault == "gone":
            return DeviceStatus(Health.FAILED, "fake: contactless reader unplugged", DeviceGone.kind)
        return DeviceStatus(Health.OK, f"fake reader; card {'present' if self._present else 'absent'}")
