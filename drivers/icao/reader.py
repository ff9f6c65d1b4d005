"""Terminal side of an ICAO 9303 eMRTD read: select the LDS1 applet, BAC, and files under secure messaging.

Only BAC is implemented (ICAO 9303 part 11 §4.3). PACE (§4.4) is NOT implemented: Vietnamese CCCD chips
read by the public tools we studied accept BAC, and a PACE-only chip will fail here with BacError.
Chip Authentication / Active Authentication are not implemented either (passive authentication only).

The transport is any callable `transmit(apdu: bytes) -> bytes` (response data + SW1SW2), so the same code runs
over pyscard and against the in-process virtual card.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

from drivers.icao import crypto, sm, tlv
from drivers.icao.apdu import (
    SW_END_OF_FILE,
    SW_OK,
    ApduError,
    Command,
    Response,
    Transmit,
)

LDS1_AID = bytes.fromhex("A0000002471001")

FID_COM = 0x011E
FID_SOD = 0x011D
FID_DG = {n: 0x0100 + n for n in range(1, 17)}
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9, 0x6A: 10,
           0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}

# Short READ BINARY under 3DES SM: 0xDF plain bytes -> DO'87' of 0xE0+1 bytes + DO'99' + DO'8E' still fit a
# short response (<= 256 bytes). With extended length the card may answer up to several kB per command.
SHORT_CHUNK = 0xDF


class BacError(Exception):
    """BAC was refused (wrong document number / birth date / expiry, or a PACE-only chip)."""


class IcaoReader:
    def __init__(self, transmit: Transmit, *, extended_chunk: int = 0,
                 check_deadline: Callable[[], None] | None = None) -> None:
        """`extended_chunk` > 256 reads with extended-length READ BINARY (only if the reader and card support it).
        `check_deadline` is called before every APDU and raises when the caller's time is up."""
        self._transmit = transmit
        self.keys: sm.SessionKeys | None = None
        self.extended_chunk = extended_chunk
        self._check = check_deadline or (lambda: None)
        self.apdu_count = 0

    # ------------------------------------------------------------------ transport
    def raw(self, cmd: Command) -> Response:
        self._check()
        self.apdu_count += 1
        return Response.parse(self._transmit(cmd.encode()))

    def send(self, cmd: Command) -> Response:
        if self.keys is None:
            return self.raw(cmd)
        return sm.unwrap_response(self.keys, self.raw(sm.wrap(self.keys, cmd)))

    # ------------------------------------------------------------------ steps
    def select_applet(self) -> None:
        r = self.raw(Command(0x00, 0xA4, 0x04, 0x0C, LDS1_AID))
        if r.sw != SW_OK:
            raise ApduError(r.sw, "SELECT LDS1 applet")

    def bac(self, document_number: str, birth_yymmdd: str, expiry_yymmdd: str) -> None:
        seed = crypto.bac_key_seed(document_number, birth_yymmdd, expiry_yymmdd)
        k_enc, k_mac = crypto.kdf(seed, crypto.ENC_COUNTER), crypto.kdf(seed, crypto.MAC_COUNTER)
        self.keys = None
        r = self.raw(Command(0x00, 0x84, 0x00, 0x00, le=8))
        if r.sw != SW_OK or len(r.data) != 8:
            raise ApduError(r.sw, "GET CHALLENGE")
        rnd_ic = r.data
        rnd_ifd, k_ifd = os.urandom(8), os.urandom(16)
        e_ifd = crypto.des3_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
        m_ifd = crypto.retail_mac(k_mac, e_ifd)
        r = self.raw(Command(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, le=40))
        if r.sw != SW_OK:
            raise BacError(f"MUTUAL AUTHENTICATE refused, SW={r.sw:04X}")
        if len(r.data) != 40 or crypto.retail_mac(k_mac, r.data[:32]) != r.data[32:]:
            raise BacError("MUTUAL AUTHENTICATE answer has a bad MAC")
        plain = crypto.des3_decrypt(k_enc, r.data[:32])
        if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
            raise BacError("MUTUAL AUTHENTICATE answer does not match our challenge")
        k_ic = plain[16:32]
        seed2 = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        self.keys = sm.SessionKeys(
            crypto.kdf(seed2, crypto.ENC_COUNTER), crypto.kdf(seed2, crypto.MAC_COUNTER),
            rnd_ic[-4:] + rnd_ifd[-4:],
        )

    def select_file(self, fid: int) -> None:
        r = self.send(Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
        if r.sw != SW_OK:
            raise ApduError(r.sw, f"SELECT {fid:04X}")

    def read_binary(self, offset: int, length: int) -> bytes:
        if offset > 0x7FFF:
            # READ BINARY with odd INS and an offset data object (ISO 7816-4), for files past 32 kB
            cmd = Command(0x00, 0xB1, 0x00, 0x00, tlv.tlv(0x54, offset.to_bytes(3, "big")), le=length,
                          extended=length > 256)
        else:
            cmd = Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length, extended=length > 256)
        r = self.send(cmd)
        if r.sw not in (SW_OK, SW_END_OF_FILE):
            raise ApduError(r.sw, "READ BINARY")
        data = r.data
        if cmd.ins == 0xB1:  # answer wrapped in DO'53'
            item = tlv.parse_one(data)
            data = item.value
        return data

    def read_file(self, fid: int, *, on_progress: Callable[[int, int], None] | None = None) -> bytes:
        """SELECT by FID, read the TLV header, then the whole file in chunks."""
        self.select_file(fid)
        head = self.read_binary(0, 6)
        hlen, vlen = tlv.header_length(head)
        total = hlen + vlen
        buf = bytearray(head[:total])
        chunk = self.extended_chunk if self.extended_chunk > 256 else SHORT_CHUNK
        while len(buf) < total:
            n = min(chunk, total - len(buf))
            part = self.read_binary(len(buf), n)
            if not part:
                raise ApduError(SW_END_OF_FILE, "READ BINARY returned no data before the end of the file")
            buf += part
            if on_progress:
                on_progress(len(buf), total)
        return bytes(buf)


def deadline_checker(deadline: float, exc_factory: Callable[[], Exception]) -> Callable[[], None]:
    def check() -> None:
        if time.monotonic() > deadline:
            raise exc_factory()
    return check
