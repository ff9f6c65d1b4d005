"""Draws the kiosk's flat icons (no downloads): `python assets/icons/make_icons.py` writes assets/icons/*.png.

One icon per procedure field (the catalogue's `field` picks it: screens.widgets.icon_for) and one per main action.
Drawn at 4× and scaled down for smooth edges; dark blue on transparent, so they read on the light tiles and next to
the words they stand beside (an icon never replaces a word)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SIZE = 128
S = 4  # supersampling
BLUE = (10, 59, 128, 255)
WHITE = (255, 255, 255, 255)
YELLOW = (245, 196, 50, 255)
RED = (200, 40, 40, 255)


def canvas():
    im = Image.new("RGBA", (SIZE * S, SIZE * S), (0, 0, 0, 0))
    return im, ImageDraw.Draw(im)


def u(*v):  # units of 1/128 of the icon → supersampled pixels
    return [int(round(x * S)) for x in v]


def person(d, cx, top, scale=1.0, fill=BLUE):
    r = 13 * scale
    d.ellipse(u(cx - r, top, cx + r, top + 2 * r), fill=fill)
    w = 24 * scale
    d.rounded_rectangle(u(cx - w, top + 2 * r + 4 * scale, cx + w, top + 2 * r + 44 * scale), radius=14 * scale * S,
                        fill=fill)


def ho_tich(d):  # a family: two adults and a child
    person(d, 38, 16)
    person(d, 90, 16)
    person(d, 64, 58, 0.7, fill=YELLOW)
    d.rectangle(u(8, 112, 120, 118), fill=BLUE)


def chung_thuc(d):  # a paper with a round stamp
    d.rounded_rectangle(u(22, 8, 92, 112), radius=8 * S, fill=WHITE, outline=BLUE, width=6 * S)
    for y in (30, 46, 62):
        d.rectangle(u(34, y, 80, y + 6), fill=BLUE)
    d.ellipse(u(62, 66, 118, 122), fill=RED)
    d.ellipse(u(72, 76, 108, 112), outline=WHITE, width=4 * S)


def cu_tru(d):  # a house
    d.polygon(u(64, 10, 118, 58, 10, 58), fill=BLUE)
    d.rectangle(u(24, 56, 104, 116), fill=BLUE)
    d.rectangle(u(54, 78, 74, 116), fill=YELLOW)
    d.rectangle(u(84, 20, 98, 44), fill=BLUE)


def giay_to(d):  # any other procedure: a paper with lines
    d.rounded_rectangle(u(24, 8, 104, 120), radius=8 * S, fill=WHITE, outline=BLUE, width=6 * S)
    for y in (32, 50, 68, 86):
        d.rectangle(u(38, y, 90, y + 7), fill=BLUE)


def bat_dau(d):  # start: an arrow into a paper
    giay_to(d)
    d.polygon(u(4, 52, 56, 52, 56, 36, 86, 64, 56, 92, 56, 76, 4, 76), fill=YELLOW, outline=BLUE)


def tra_cuu(d):  # look up: a magnifier
    d.ellipse(u(10, 10, 82, 82), outline=BLUE, width=12 * S)
    d.line(u(72, 72, 116, 116), fill=BLUE, width=16 * S)


def so_thu_tu(d):  # queue ticket: a ticket with a number mark
    d.rounded_rectangle(u(8, 30, 120, 98), radius=10 * S, fill=BLUE)
    d.ellipse(u(0, 52, 16, 76), fill=(0, 0, 0, 0))
    d.ellipse(u(112, 52, 128, 76), fill=(0, 0, 0, 0))
    d.text((0, 0), "")  # (no font needed)
    for x in (34, 58, 82):
        d.rectangle(u(x, 50, x + 12, 78), fill=WHITE)


def goi_can_bo(d):  # call staff: a person with a raised hand
    person(d, 56, 18)
    d.line(u(70, 56, 92, 30), fill=BLUE, width=10 * S)
    d.rounded_rectangle(u(86, 10, 100, 62), radius=6 * S, fill=YELLOW)
    d.ellipse(u(82, 2, 104, 22), fill=YELLOW)


def tro_giup(d):  # help: a question mark in a circle
    d.ellipse(u(6, 6, 122, 122), fill=BLUE)
    d.arc(u(40, 26, 88, 74), start=180, end=70, fill=WHITE, width=12 * S)
    d.line(u(72, 66, 64, 80), fill=WHITE, width=12 * S)
    d.ellipse(u(56, 90, 72, 106), fill=WHITE)


GREEN = (30, 120, 60, 255)


def _card(d, x0, y0, x1, y1, fill=WHITE):  # an ID card outline
    d.rounded_rectangle(u(x0, y0, x1, y1), radius=8 * S, fill=fill, outline=BLUE, width=5 * S)


def _chip(d, x, y, w=22, h=18):  # the gold contact chip
    d.rounded_rectangle(u(x, y, x + w, y + h), radius=3 * S, fill=YELLOW, outline=(150, 110, 20, 255), width=2 * S)
    d.line(u(x + w / 2, y, x + w / 2, y + h), fill=(150, 110, 20, 255), width=2 * S)
    d.line(u(x, y + h / 2, x + w, y + h / 2), fill=(150, 110, 20, 255), width=2 * S)


def _qr(d, x, y, size, fill=BLUE):  # a small QR-like pattern: three finder squares and some modules
    m = size / 7
    for fx, fy in ((0, 0), (4, 0), (0, 4)):
        d.rectangle(u(x + fx * m, y + fy * m, x + (fx + 3) * m, y + (fy + 3) * m), fill=fill)
        d.rectangle(u(x + (fx + 0.8) * m, y + (fy + 0.8) * m, x + (fx + 2.2) * m, y + (fy + 2.2) * m), fill=WHITE)
        d.rectangle(u(x + (fx + 1.2) * m, y + (fy + 1.2) * m, x + (fx + 1.8) * m, y + (fy + 1.8) * m), fill=fill)
    for mx, my in ((4, 4), (5, 5), (6, 4), (4, 6), (6, 6), (5, 3.5)):
        d.rectangle(u(x + mx * m, y + my * m, x + (mx + 0.9) * m, y + (my + 0.9) * m), fill=fill)


def _phone(d, x0, y0, x1, y1):
    d.rounded_rectangle(u(x0, y0, x1, y1), radius=10 * S, fill=BLUE)
    d.rounded_rectangle(u(x0 + 6, y0 + 12, x1 - 6, y1 - 14), radius=3 * S, fill=WHITE)
    d.ellipse(u((x0 + x1) / 2 - 4, y1 - 11, (x0 + x1) / 2 + 4, y1 - 3), fill=WHITE)


def dien_thoai(d):  # "I have a phone with VNeID": a phone showing a QR, a red star (the VNeID mark) above it
    _phone(d, 34, 6, 94, 122)
    _qr(d, 44, 36, 40)
    d.regular_polygon((64 * S, 26 * S, 7 * S), 5, fill=RED)


def the_chip(d):  # "I have a chip ID card": a card with the gold chip and a portrait
    _card(d, 6, 26, 122, 102)
    _chip(d, 18, 52, 26, 22)
    person(d, 96, 38, 0.55)
    for y in (44, 58, 72):
        d.rectangle(u(52, y, 78, y + 6), fill=BLUE)


def ho_tro(d):  # "I need staff help": a clerk (with a badge) beside a citizen
    person(d, 40, 14)
    d.rectangle(u(46, 58, 58, 68), fill=YELLOW)  # the clerk's badge
    person(d, 92, 30, 0.8, fill=GREEN)
    d.line(u(62, 70, 78, 62), fill=BLUE, width=8 * S)  # a hand towards the citizen
    d.rectangle(u(8, 112, 120, 118), fill=BLUE)


def the_qr(d):  # the card's front with its QR, held up to the camera
    _card(d, 6, 20, 122, 108)
    _qr(d, 72, 34, 40)
    person(d, 30, 36, 0.6)
    d.rectangle(u(16, 90, 62, 96), fill=BLUE)


def dat_the(d):  # lay the card on the reader: a card over a reader with radio waves
    d.rounded_rectangle(u(10, 86, 118, 120), radius=8 * S, fill=BLUE)
    d.rectangle(u(40, 104, 88, 110), fill=WHITE)
    _card(d, 22, 40, 106, 80)
    _chip(d, 32, 52, 20, 16)
    for r in (10, 20, 30):
        d.arc(u(64 - r, 28 - r, 64 + r, 28 + r), start=200, end=340, fill=GREEN, width=4 * S)


def quet_qr(d):  # a phone scanning a QR on a screen
    d.rounded_rectangle(u(4, 10, 76, 82), radius=4 * S, fill=WHITE, outline=BLUE, width=5 * S)
    _qr(d, 12, 18, 56)
    _phone(d, 70, 40, 118, 124)
    d.line(u(70, 62, 50, 46), fill=RED, width=4 * S)
    d.line(u(70, 78, 50, 64), fill=RED, width=4 * S)


ICONS = {"ho_tich": ho_tich, "chung_thuc": chung_thuc, "cu_tru": cu_tru, "giay_to": giay_to,
         "bat_dau": bat_dau, "tra_cuu": tra_cuu, "so_thu_tu": so_thu_tu, "goi_can_bo": goi_can_bo,
         "tro_giup": tro_giup, "dien_thoai": dien_thoai, "the_chip": the_chip, "ho_tro": ho_tro, "the_qr": the_qr,
         "dat_the": dat_the, "quet_qr": quet_qr}
#: The login doors' pictures are shown large (up to ~200 px at 1080p): written at twice the size.
LARGE = {"dien_thoai", "the_chip", "ho_tro", "the_qr", "dat_the", "quet_qr"}


def main(names: list[str] | None = None) -> None:
    """Draw every icon, or only `names` (`python make_icons.py dien_thoai the_chip`)."""
    for name in names or list(ICONS):
        im, d = canvas()
        ICONS[name](d)
        size = SIZE * 2 if name in LARGE else SIZE
        im.resize((size, size), Image.LANCZOS).save(HERE / f"{name}.png", optimize=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
