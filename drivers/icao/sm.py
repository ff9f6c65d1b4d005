"""Secure messaging with 3DES session keys (ICAO 9303 part 11 §9.8, ISO/IEC 7816-4 §10).

Protected command: CLA|0x0C, the header padded and MACed together with
DO'87' (01 || encrypted padded data) and DO'97' (Le), then DO'8E' (8-byte MAC). Protected response:
DO'87' (encrypted data, if any), DO'99' (the status word), DO'8E'. The send sequence counter (SSC, 8 bytes)
is incremented before each command and before checking each response.
"""
from __future__ import annotations

from drivers.icao import crypto, tlv
from drivers.icao.apdu import Command, Response


class SecureMessagingError(Exception):
    """A protected response failed its MAC check or was malformed (the session is lost)."""


class SessionKeys:
    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> None:
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.ssc = int.from_bytes(ssc, "big")

    def next_ssc(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << 64)
        return self.ssc.to_bytes(8, "big")


def _le_bytes(le: int, extended: bool) -> bytes:
    if extended or le > 256:
        return (le & 0xFFFF).to_bytes(2, "big")
    return bytes([le & 0xFF])


def wrap(keys: SessionKeys, cmd: Command) -> Command:
    """Protect a plain command."""
    cla = cmd.cla | 0x0C
    header = crypto.pad(bytes([cla, cmd.ins, cmd.p1, cmd.p2]))
    do87 = b""
    if cmd.data:
        do87 = tlv.tlv(0x87, b"\x01" + crypto.des3_encrypt(keys.ks_enc, crypto.pad(cmd.data)))
    do97 = tlv.tlv(0x97, _le_bytes(cmd.le, cmd.extended)) if cmd.le is not None else b""
    ssc = keys.next_ssc()
    mac = crypto.retail_mac(keys.ks_mac, ssc + header + do87 + do97)
    body = do87 + do97 + tlv.tlv(0x8E, mac)
    extended = cmd.extended or (cmd.le is not None and cmd.le > 256) or len(body) > 255
    le = 65536 if extended else 256
    return Command(cla, cmd.ins, cmd.p1, cmd.p2, body, le, extended)


def unwrap_response(keys: SessionKeys, resp: Response) -> Response:
    """Check and decrypt a protected response. A card error without SM objects is passed through (SW only)."""
    ssc = keys.next_ssc()
    if not resp.data:
        # The card dropped secure messaging (e.g. 6987/6988, or an unprotected error): no MAC to check.
        return resp
    try:
        objs = list(tlv.iter_tlv(resp.data))
    except tlv.TlvError as exc:
        raise SecureMessagingError("malformed protected response") from exc
    do87 = next((o for o in objs if o.tag == 0x87), None)
    do99 = next((o for o in objs if o.tag == 0x99), None)
    do8e = next((o for o in objs if o.tag == 0x8E), None)
    if do8e is None or do99 is None:
        raise SecureMessagingError("protected response lacks DO'99' or DO'8E'")
    macced = b""
    for o in objs:
        if o.tag in (0x87, 0x99):
            macced += resp.data[o.start:o.end]
    if crypto.retail_mac(keys.ks_mac, ssc + macced) != do8e.value:
        raise SecureMessagingError("response MAC mismatch")
    data = b""
    if do87 is not None:
        if not do87.value or do87.value[0] != 0x01:
            raise SecureMessagingError("unknown padding indicator in DO'87'")
        try:
            data = crypto.unpad(crypto.des3_decrypt(keys.ks_enc, do87.value[1:]))
        except ValueError as exc:
            raise SecureMessagingError("bad padding in DO'87'") from exc
    return Response(data, int.from_bytes(do99.value, "big"))
