"""BER-TLV helpers (ISO/IEC 7816-4 / X.690 subset used by ICAO 9303 LDS files).

Tags are kept as integers of their full encoding (0x5F1F, 0x7F61, 0x6D ...), lengths in definite form only
(ICAO 9303 part 10 forbids the indefinite form in LDS files).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator


class TlvError(ValueError):
    """Malformed TLV data."""


@dataclasses.dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    start: int = 0  # offset of the tag inside the parsed buffer
    end: int = 0  # offset just after the value

    @property
    def constructed(self) -> bool:
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        return list(iter_tlv(self.value))


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("negative tag")
    n = max(1, (tag.bit_length() + 7) // 8)
    return tag.to_bytes(n, "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    n = (length.bit_length() + 7) // 8
    if n > 4:
        raise ValueError("length too large")
    return bytes([0x80 | n]) + length.to_bytes(n, "big")


def tlv(tag: int, value: bytes | list[bytes] | tuple[bytes, ...]) -> bytes:
    """Encode one TLV; a list/tuple value is concatenated (handy for constructed objects)."""
    if isinstance(value, (list, tuple)):
        value = b"".join(value)
    return encode_tag(tag) + encode_length(len(value)) + value


def read_tag(buf: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(buf):
        raise TlvError("truncated tag")
    first = buf[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:  # multi-byte tag
        while True:
            if pos >= len(buf):
                raise TlvError("truncated tag")
            b = buf[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
            if tag > 0xFFFFFF:
                raise TlvError("tag too long")
    return tag, pos


def read_length(buf: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(buf):
        raise TlvError("truncated length")
    first = buf[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    n = first & 0x7F
    if n == 0 or n > 4:
        raise TlvError("unsupported length form")
    if pos + n > len(buf):
        raise TlvError("truncated length")
    return int.from_bytes(buf[pos:pos + n], "big"), pos + n


def header_length(buf: bytes) -> tuple[int, int]:
    """(header size, value length) of the TLV at the start of `buf` (which may be just its first bytes)."""
    _, pos = read_tag(buf, 0)
    length, pos = read_length(buf, pos)
    return pos, length


def parse_one(buf: bytes, pos: int = 0) -> Tlv:
    start = pos
    tag, pos = read_tag(buf, pos)
    length, pos = read_length(buf, pos)
    end = pos + length
    if end > len(buf):
        raise TlvError("value runs past the end of the data")
    return Tlv(tag, bytes(buf[pos:end]), start, end)


def iter_tlv(buf: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(buf):
        if buf[pos] in (0x00, 0xFF) and all(b in (0x00, 0xFF) for b in buf[pos:]):
            return  # padding after the last object
        item = parse_one(buf, pos)
        yield item
        pos = item.end


def find(buf: bytes, *path: int) -> Tlv | None:
    """Follow a tag path through nested constructed objects; None when any step is missing."""
    current: Tlv | None = None
    data = buf
    for tag in path:
        current = next((t for t in iter_tlv(data) if t.tag == tag), None)
        if current is None:
            return None
        data = current.value
    return current
