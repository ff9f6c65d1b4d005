"""Card side of the virtual CCCD (tests/vcard, and the demo card of drivers/fakes/chip.py): an ISO 7816-4 /
ICAO 9303 APDU responder with BAC and 3DES secure messaging."""
from __future__ import annotations

import os

from drivers.icao import crypto, tlv
from drivers.icao.apdu import Command, Response, parse_command
from drivers.icao.reader import LDS1_AID
from drivers.icao.sm import SessionKeys

ATR = bytes.fromhex("3B80800101")  # T=1, no historical bytes (a valid ATR; real CCCD ATRs vary by reader)


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


class VirtualCccd:
    """Answers APDUs like an ICAO 9303 LDS1 chip protected by BAC. `files` maps FID -> bytes; `mrz_keys` is
    (document number, birth YYMMDD, expiry YYMMDD) — what is printed on this card."""

    def __init__(self, files: dict[int, bytes], mrz_keys: tuple[str, str, str]) -> None:
        self.files = files
        seed = crypto.bac_key_seed(*mrz_keys)
        self._k_enc = crypto.kdf(seed, crypto.ENC_COUNTER)
        self._k_mac = crypto.kdf(seed, crypto.MAC_COUNTER)
        self.apdus = 0
        self.reset()

    def reset(self) -> None:
        self.applet = False
        self.rnd_ic: bytes | None = None
        self.keys: SessionKeys | None = None
        self.selected: int | None = None

    # ------------------------------------------------------------------ entry point
    def respond(self, apdu: bytes) -> bytes:
        self.apdus += 1
        try:
            cmd = parse_command(apdu)
        except ValueError:
            return _sw(0x6700)
        if cmd.cla & 0x0C == 0x0C:
            if self.keys is None:
                return _sw(0x6982)
            return self._secure(cmd)
        if self.keys is not None:  # plain APDU inside an SM session: the chip drops the session
            self.keys = None
            return _sw(0x6987)
        return self._plain(cmd)

    def _plain(self, cmd: Command) -> bytes:
        if cmd.ins == 0xA4 and cmd.p1 == 0x04:
            if cmd.data == LDS1_AID:
                self.reset()
                self.applet = True
                return _sw(0x9000)
            return _sw(0x6A82)
        if not self.applet:
            return _sw(0x6D00 if cmd.ins not in (0xA4, 0xB0, 0x84, 0x82) else 0x6A82)
        if cmd.ins == 0x84:
            self.rnd_ic = os.urandom(8)
            return _sw(0x9000, self.rnd_ic)
        if cmd.ins == 0x82:
            return self._mutual_auth(cmd.data)
        if cmd.ins in (0xA4, 0xB0, 0xB1):
            return _sw(0x6982)  # security status not satisfied: BAC first
        return _sw(0x6D00)

    def _mutual_auth(self, data: bytes) -> bytes:
        rnd_ic, self.rnd_ic = self.rnd_ic, None
        if rnd_ic is None or len(data) != 40:
            return _sw(0x6985)
        if crypto.retail_mac(self._k_mac, data[:32]) != data[32:]:
            return _sw(0x6300)
        plain = crypto.des3_decrypt(self._k_enc, data[:32])
        rnd_ifd, got_ic, k_ifd = plain[:8], plain[8:16], plain[16:32]
        if got_ic != rnd_ic:
            return _sw(0x6300)
        k_ic = os.urandom(16)
        e_ic = crypto.des3_encrypt(self._k_enc, rnd_ic + rnd_ifd + k_ic)
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        self.keys = SessionKeys(crypto.kdf(seed, crypto.ENC_COUNTER), crypto.kdf(seed, crypto.MAC_COUNTER),
                                rnd_ic[-4:] + rnd_ifd[-4:])
        return _sw(0x9000, e_ic + crypto.retail_mac(self._k_mac, e_ic))

    # ------------------------------------------------------------------ secure messaging
    def _secure(self, cmd: Command) -> bytes:
        keys = self.keys
        assert keys is not None
        ssc = keys.next_ssc()
        try:
            objs = list(tlv.iter_tlv(cmd.data))
        except tlv.TlvError:
            self.keys = None
            return _sw(0x6988)
        do8e = next((o for o in objs if o.tag == 0x8E), None)
        macced = b"".join(cmd.data[o.start:o.end] for o in objs if o.tag in (0x87, 0x97))
        header = crypto.pad(bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2]))
        if do8e is None or crypto.retail_mac(keys.ks_mac, ssc + header + macced) != do8e.value:
            self.keys = None
            return _sw(0x6988)
        data = b""
        do87 = next((o for o in objs if o.tag == 0x87), None)
        if do87 is not None:
            data = crypto.unpad(crypto.des3_decrypt(keys.ks_enc, do87.value[1:]))
        do97 = next((o for o in objs if o.tag == 0x97), None)
        le = None
        if do97 is not None:
            le = int.from_bytes(do97.value, "big") or (256 if len(do97.value) == 1 else 65536)
        plain = Command(cmd.cla & ~0x0C, cmd.ins, cmd.p1, cmd.p2, data, le)
        out = self._command(plain)
        resp = Response.parse(out)
        ssc = keys.next_ssc()
        body = b""
        if resp.data:
            body += tlv.tlv(0x87, b"\x01" + crypto.des3_encrypt(keys.ks_enc, crypto.pad(resp.data)))
        body += tlv.tlv(0x99, resp.sw.to_bytes(2, "big"))
        body += tlv.tlv(0x8E, crypto.retail_mac(keys.ks_mac, ssc + body))
        return _sw(resp.sw if resp.sw in (0x9000, 0x6282) else resp.sw, body)

    def _command(self, cmd: Command) -> bytes:
        if cmd.ins == 0xA4 and cmd.p1 == 0x02:
            fid = int.from_bytes(cmd.data, "big") if len(cmd.data) == 2 else -1
            if fid not in self.files:
                return _sw(0x6A82)
            self.selected = fid
            return _sw(0x9000)
        if cmd.ins in (0xB0, 0xB1):
            if self.selected is None:
                return _sw(0x6986)
            f = self.files[self.selected]
            if cmd.ins == 0xB0:
                offset = ((cmd.p1 & 0x7F) << 8) | cmd.p2
            else:
                offset = int.from_bytes(tlv.parse_one(cmd.data).value, "big")
            if offset > len(f):
                return _sw(0x6B00)
            chunk = f[offset:offset + (cmd.le or 256)]
            if cmd.ins == 0xB1:
                chunk = tlv.tlv(0x53, chunk)
            return _sw(0x9000 if offset + (cmd.le or 256) <= len(f) else 0x6282, chunk)
        return _sw(0x6D00)
