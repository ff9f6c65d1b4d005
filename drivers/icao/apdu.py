"""Command APDUs (ISO/IEC 7816-3/-4), short and extended length, and the status words we act on."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

# A transport: takes a whole command APDU, returns response data followed by SW1 SW2.
Transmit = Callable[[bytes], bytes]

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le: end of file reached
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_FAILED = 0x6300
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_SM_DATA_INCORRECT = 0x6988
SW_SM_MISSING = 0x6987


class ApduError(Exception):
    """The card answered with a status word other than 9000 (no personal data in the message)."""

    def __init__(self, sw: int, what: str = "") -> None:
        super().__init__(f"{what or 'APDU'} failed: SW={sw:04X}")
        self.sw = sw
        self.what = what


@dataclasses.dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0 means "up to 256" (short) / 65536 (extended)
    extended: bool = False

    def encode(self) -> bytes:
        head = bytes([self.cla, self.ins, self.p1, self.p2])
        ext = self.extended or len(self.data) > 255 or (self.le is not None and self.le > 256)
        body = b""
        if self.data:
            body += (b"\x00" + len(self.data).to_bytes(2, "big")) if ext else bytes([len(self.data)])
            body += self.data
        if self.le is not None:
            le = self.le
            if ext:
                le_bytes = (le & 0xFFFF).to_bytes(2, "big")  # 65536 -> 0000
                body += le_bytes if self.data else b"\x00" + le_bytes
            else:
                body += bytes([le & 0xFF])  # 256 -> 00
        return head + body


@dataclasses.dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ApduError(0x0000, "short response")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def parse_command(raw: bytes) -> Command:
    """Decode a command APDU (card side); accepts the four ISO cases, short or extended."""
    if len(raw) < 4:
        raise ValueError("APDU shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return Command(cla, ins, p1, p2)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, le=body[0] or 256)
    if body[0] == 0 and len(body) >= 3:  # extended
        if len(body) == 3:
            return Command(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        data = body[3:3 + lc]
        rest = body[3 + lc:]
        le = (int.from_bytes(rest, "big") or 65536) if rest else None
        return Command(cla, ins, p1, p2, data, le, True)
    lc = body[0]
    data = body[1:1 + lc]
    rest = body[1 + lc:]
    le = (rest[0] or 256) if rest else None
    return Command(cla, ins, p1, p2, data, le)
