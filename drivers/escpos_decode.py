"""Turn an ESC/POS byte stream back into what the paper shows.

Tests and `kiosk simulate` capture what was sent to a printer; this reads it back: raster images
(GS v 0), QR payloads (GS ( k store + print), feeds, cuts, plain text. It knows the length of every
command python-escpos emits, plus the common ones it does not, and skips the rest, so a stray command
never derails decoding of the images after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C
_PREFIX = {ESC: "ESC", GS: "GS", DLE: "DLE", FS: "FS"}
LF_DOTS = 30  # a default line feed is about 1/6 inch ~ 30 dots at 180-203 dpi


@dataclass(frozen=True)
class Command:
    """One decoded command. `name` is the ESC/POS mnemonic; `image`, `payload`, `lines`, `text` as relevant."""

    name: str
    image: Image.Image | None = None
    payload: str | None = None
    lines: int = 0
    text: str = ""
    module_dots: int = 0


@dataclass
class _QrState:
    module_dots: int = 3
    stored: bytes = b""
    extra: list[str] = field(default_factory=list)


# Fixed-length commands: (prefix byte, command byte) -> total length including both.
_FIXED = {
    (ESC, 0x40): 2,  # ESC @ initialise
    (ESC, 0x32): 2,  # ESC 2 default line spacing
    (ESC, 0x3C): 2,
    (ESC, 0x61): 3,  # ESC a align
    (ESC, 0x64): 3,  # ESC d feed n lines
    (ESC, 0x4A): 3,  # ESC J feed n dots
    (ESC, 0x45): 3, (ESC, 0x47): 3, (ESC, 0x2D): 3, (ESC, 0x4D): 3, (ESC, 0x74): 3, (ESC, 0x52): 3,
    (ESC, 0x21): 3, (ESC, 0x33): 3, (ESC, 0x20): 3, (ESC, 0x7B): 3, (ESC, 0x56): 3, (ESC, 0x63): 4,
    (ESC, 0x70): 5,  # ESC p m t1 t2 drawer pulse
    (ESC, 0x24): 4, (ESC, 0x5C): 4,
    (GS, 0x21): 3, (GS, 0x42): 3, (GS, 0x48): 3, (GS, 0x66): 3, (GS, 0x68): 3, (GS, 0x77): 3,
    (GS, 0x62): 3, (GS, 0x61): 3, (GS, 0x4C): 4, (GS, 0x57): 4, (GS, 0x72): 3, (GS, 0x49): 3,
    (DLE, 0x04): 3,  # DLE EOT n status
    (DLE, 0x05): 3,  # DLE ENQ n
    (DLE, 0x14): 5,  # DLE DC4 fn m t
    (FS, 0x2E): 2, (FS, 0x26): 2, (FS, 0x43): 3,
}


def _u16(data: bytes, at: int) -> int:
    return data[at] | (data[at + 1] << 8)


def _raster(data: bytes, i: int) -> tuple[Command, int]:
    """GS v 0 m xL xH yL yH d...: 1 bits are black."""
    mode = data[i + 3]
    width_bytes, height = _u16(data, i + 4), _u16(data, i + 6)
    start, end = i + 8, i + 8 + width_bytes * height
    raw = data[start:end]
    if len(raw) < width_bytes * height:  # a cut-off stream (jam, unplug): keep the complete rows
        height = len(raw) // max(1, width_bytes)
        raw = raw[: width_bytes * height]
        end = start + len(raw)
    image = Image.frombytes("1", (width_bytes * 8, height), raw, "raw", "1;I") if height else Image.new("1", (8, 0))
    if mode & 1:  # double width
        image = image.resize((image.width * 2, image.height), Image.Resampling.NEAREST)
    if mode & 2:  # double height
        image = image.resize((image.width, image.height * 2), Image.Resampling.NEAREST)
    return Command("GS v 0", image=image), end


def _two_d_code(data: bytes, i: int, qr: _QrState) -> tuple[Command | None, int]:
    """GS ( k pL pH cn fn [params]: only QR (cn=49) store (fn=80) and print (fn=81) produce output."""
    length = _u16(data, i + 3)
    body = data[i + 5 : i + 5 + length]
    end = i + 5 + length
    if len(body) < 2 or body[0] != 0x31:
        return None, end
    fn = body[1]
    if fn == 0x43 and len(body) >= 3:  # module size
        qr.module_dots = body[2]
    elif fn == 0x50 and len(body) >= 3:  # store: m=48 then data
        qr.stored = body[3:]
    elif fn == 0x51:  # print the stored symbol
        payload = qr.stored.decode("utf-8", errors="replace")
        return Command("GS ( k QR", payload=payload, module_dots=qr.module_dots), end
    return None, end


def _gs_paren(data: bytes, i: int) -> int:
    """GS ( x pL pH ...: every GS ( function carries its own length."""
    return i + 5 + _u16(data, i + 3)


def _cut(data: bytes, i: int) -> int:
    mode = data[i + 2] if i + 2 < len(data) else 0
    return i + (4 if mode in (65, 66, 97, 98, 103, 104) else 3)


def decode_stream(stream: bytes) -> list[Command]:
    """Every command in `stream`, in order. Unknown escapes are skipped (two bytes) and named '?'."""
    out: list[Command] = []
    qr = _QrState()
    text = bytearray()
    i, n = 0, len(stream)

    def flush_text() -> None:
        if text:
            out.append(Command("TEXT", text=text.decode("cp437", errors="replace")))
            text.clear()

    while i < n:
        byte = stream[i]
        if byte in (ESC, GS, DLE, FS) and i + 1 < n:
            flush_text()
            cmd = stream[i + 1]
            key = (byte, cmd)
            if byte == GS and cmd == 0x76 and i + 8 <= n:  # GS v 0
                command, i = _raster(stream, i)
                out.append(command)
            elif byte == GS and cmd == 0x28 and i + 5 <= n:  # GS ( k / GS ( L / ...
                if stream[i + 2] == 0x6B:
                    code_command, i = _two_d_code(stream, i, qr)
                    if code_command:
                        out.append(code_command)
                else:
                    i = _gs_paren(stream, i)
                    out.append(Command("GS ("))
            elif byte == GS and cmd == 0x56:  # GS V cut
                i = _cut(stream, i)
                out.append(Command("GS V cut"))
            elif byte == ESC and cmd == 0x64 and i + 2 < n:
                out.append(Command("ESC d feed", lines=stream[i + 2]))
                i += 3
            elif byte == ESC and cmd == 0x4A and i + 2 < n:
                out.append(Command("ESC J feed dots", lines=stream[i + 2]))
                i += 3
            elif byte == DLE and cmd == 0x04 and i + 2 < n:
                out.append(Command("DLE EOT", lines=stream[i + 2]))
                i += 3
            elif byte == ESC and cmd == 0x40:
                out.append(Command("ESC @"))
                i += 2
            elif byte == ESC and cmd == 0x2A and i + 5 <= n:  # ESC * m nL nH column image: skip its data
                columns = _u16(stream, i + 3)
                i += 5 + columns * (3 if stream[i + 2] in (32, 33) else 1)
                out.append(Command("ESC *"))
            elif key in _FIXED:
                out.append(Command(f"{_PREFIX[byte]} {chr(cmd) if 0x20 < cmd < 0x7F else hex(cmd)}"))
                i += _FIXED[key]
            else:
                out.append(Command("?"))
                i += 2
        elif byte == 0x0A:
            flush_text()
            out.append(Command("LF", lines=1))
            i += 1
        else:
            if byte >= 0x20:
                text.append(byte)
            i += 1
    flush_text()
    return out


def decode_raster(stream: bytes) -> list[Image.Image]:
    """The raster images (GS v 0) in `stream`, one per command, in order (mode '1')."""
    return [c.image for c in decode_stream(stream) if c.image is not None]


def decoded_qr_payloads(stream: bytes) -> list[str]:
    """Payloads of the QR codes printed with the printer's own QR command."""
    return [c.payload for c in decode_stream(stream) if c.payload is not None]


def decoded_text_commands(stream: bytes) -> list[str]:
    """Mnemonics of the commands in order (images as 'GS v 0 WxH'): for tests and debugging."""
    names = []
    for c in decode_stream(stream):
        if c.image is not None:
            names.append(f"{c.name} {c.image.width}x{c.image.height}")
        elif c.name == "TEXT":
            names.append(f"TEXT {c.text!r}")
        else:
            names.append(c.name + (f" {c.lines}" if c.lines and c.name != "LF" else ""))
    return names


def stack_vertically(images: list[Image.Image], width: int | None = None) -> Image.Image:
    """Images one under the other, left-aligned on white, as mode '1'."""
    width = width or max((im.width for im in images), default=8)
    sheet = Image.new("1", (width, sum(im.height for im in images)), 255)
    y = 0
    for im in images:
        sheet.paste(im.convert("1"), (0, y))
        y += im.height
    return sheet


def render_paper(stream: bytes, width_dots: int) -> Image.Image:
    """What the paper roll would show: images, native QR codes (drawn with python-qrcode, centred) and
    feeds as white space. For previews of captured jobs; QR pixels may differ from the printer's own."""
    import qrcode

    parts: list[Image.Image] = []
    for c in decode_stream(stream):
        if c.image is not None:
            parts.append(c.image)
        elif c.payload is not None:
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                                 box_size=max(1, c.module_dots), border=0)
            code.add_data(c.payload.encode("utf-8"))
            code.make(fit=True)
            symbol = code.make_image().get_image().convert("1")
            strip = Image.new("1", (width_dots, symbol.height), 255)
            strip.paste(symbol, (max(0, (width_dots - symbol.width) // 2), 0))
            parts.append(strip)
        elif c.name in ("ESC d feed", "LF"):
            parts.append(Image.new("1", (width_dots, LF_DOTS * max(1, c.lines)), 255))
        elif c.name == "ESC J feed dots" and c.lines:
            parts.append(Image.new("1", (width_dots, c.lines), 255))
    return stack_vertically(parts, width_dots)
