"""A chip-card reader with no hardware, for the demo, `kiosk simulate` and tests.

Behaves like `PcscChipReader`: `wait_for_card` blocks until a card is "put down" (`present()`), `read` takes
about as long as a real read (defaults are estimates for a CCID contactless reader at 106-424 kbit/s under 3DES
secure messaging: ~1.2 s for BAC + EF.COM + DG1 + DG13 + EF.SOD, ~2 s more for a 15-20 kB DG2 face; not measured
on real hardware), honours its timeout, and fails with the same typed errors.

Two ways to give it a card:
* nothing: a synthetic demo citizen (the `domain.md` example person) with a generated photo; the keys must match
  (`FakeChipReader.DEMO_KEYS`, or the demo QR) or the read fails with CardAccessDenied like a real chip;
* `card=`: any card-side APDU responder with `respond(apdu: bytes) -> bytes` (the tests pass the virtual CCCD
  of tests/vcard) — then the real ICAO code runs in-process (BAC, secure messaging, passive authentication
  against `csca`), so the bytes and the verdict are real.

Faults: "removed" (CardRemoved half-way), "access_denied", "not_trusted", "expired", "gone" (DeviceGone: reader
unplugged or pcscd down), "timeout" (hangs until the call's timeout, then DeviceTimeout).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import threading
import time
from typing import Protocol

from PIL import Image, ImageDraw

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
    PassiveAuthResult,
    read_identity,
)

FAULTS = ("", "removed", "access_denied", "not_trusted", "expired", "gone", "timeout")


class CardResponder(Protocol):
    def respond(self, apdu: bytes) -> bytes: ...


def _demo_photo() -> bytes:
    img = Image.new("RGB", (120, 160), (235, 235, 240))
    d = ImageDraw.Draw(img)
    d.ellipse((25, 25, 95, 120), fill=(224, 189, 160))
    d.rectangle((20, 125, 100, 160), fill=(30, 60, 120))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def demo_identity() -> ChipIdentity:
    """The synthetic citizen of shared/domain.md (QR example `001090012345|123456789|Nguyễn Văn An|...`)."""
    return ChipIdentity(
        id_number="001090012345", full_name="Nguyễn Văn An", birth_date=dt.date(1990, 1, 1), sex="Nam",
        nationality="Việt Nam", ethnicity="Kinh", religion="Không", home_town="Xã Đông Hưng, Tỉnh Thái Bình",
        residence="Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội", identifying_marks="Nốt ruồi cách 1cm trên lông mày phải",
        issue_date=dt.date(2021, 8, 15), expiry_date=dt.date(2030, 1, 1), father_name="Nguyễn Văn Bình",
        mother_name="Trần Thị Cúc", spouse_name="", old_id_number="123456789", mrz=None, photo=_demo_photo(),
        photo_mime="image/jpeg",
        passive_auth=PassiveAuthResult(True, "", "sha256", {1: True, 2: True, 13: True}, True, True,
                                       "CN=Fake Document Signer", "CN=Fake CSCA"),
        data_groups=(1, 2, 13),
    )


class FakeChipReader(ChipReader):
    driver = "fake"
    DEMO_KEYS = BacKeys("090012345", "900101", "300101")

    def __init__(self, *, card: CardResponder | None = None, csca: CscaStore | None = None,
                 identity: ChipIdentity | None = None, keys: BacKeys | None = None, fault: str = "",
                 base_delay: float = 1.2, photo_delay: float = 2.0, present: bool = False) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fake chip-reader fault {fault!r}; use one of {FAULTS}")
        self.card = card
        self.csca = csca
        self._identity = identity
        self.keys = keys or self.DEMO_KEYS
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
        if self.card is not None:
            started = time.monotonic()
            ident = self._read_card(keys, include_photo, deadline)
            self._sleep(max(0.0, total - (time.monotonic() - started)), deadline)
        else:
            if keys != self.keys:
                self._sleep(0.2 * self.base_delay, deadline)
                raise CardAccessDenied("BAC refused by the chip (wrong keys or PACE-only chip)", device=self.driver)
            self._sleep(total, deadline)
            ident = self._identity or demo_identity()
            if not include_photo:
                ident = dataclasses.replace(ident, photo=b"", photo_mime="",
                                            data_groups=tuple(n for n in ident.data_groups if n != 2))
        if self.fault == "not_trusted":
            res = dataclasses.replace(ident.passive_auth, ok=False, failure="dg_hash_mismatch")
            raise CardNotTrusted("passive authentication failed: dg_hash_mismatch", device=self.driver, result=res)
        if self.fault == "expired":
            ident = dataclasses.replace(ident, expiry_date=dt.date.today() - dt.timedelta(days=1))
        if ident.expired:
            raise CardExpired("the card is past its expiry date", device=self.driver, identity=ident)
        return ident

    def _read_card(self, keys: BacKeys, include_photo: bool, deadline: float) -> ChipIdentity:
        card = self.card
        assert card is not None

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
