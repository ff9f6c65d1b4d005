"""Synthetic 1280x720 grey camera frames for the QR decoder: a code on a phone screen (VNeID login) or on a
chip ID card (card payload), seen by a kiosk camera, plus frames with no code at all.

Each frame is drawn large and sharp, then degraded the way a cheap webcam degrades it: perspective and
in-plane rotation, defocus blur, uneven light and glare, sensor noise, JPEG artefacts. `module_px` is the
size of one QR module in the final frame (mean over the code's sides), so results can be split by it.
Everything is seeded: the same seed gives the same frames.

Payloads are synthetic. Card payloads follow the CCCD layout in shared/domain.md (source: public
descriptions of the chip-card QR) with numbers consistent with TT 59/2021/TT-BCA; they describe no one.
Codes are written as the phone app and the card do: byte mode, UTF-8, no ECI marker.
"""
from __future__ import annotations

import dataclasses
import random

import cv2
import numpy as np
import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

WIDTH, HEIGHT = 1280, 720

_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
_MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Thanh", "Minh", "Quốc", "Thùy", "Xuân"]
_GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hằng", "Hương", "Khánh", "Lộc", "Mai", "Nga", "Phúc", "Quỳnh",
          "Sơn", "Thảo", "Tuấn", "Uyên", "Việt", "Yến", "Ánh", "Đạt", "Nguyệt", "Trường", "Hiếu"]
_PLACES = ["Thôn Bản Lầu, Xã Mường Khương, Lào Cai", "Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
           "Tổ 3, Phường Quyết Thắng, Thành phố Lai Châu, Lai Châu",
           "Ấp Phú Hữu, Xã Phú Hội, Châu Đức, Bà Rịa - Vũng Tàu",
           "Xóm Đồi, Xã Tân Lập, Đồng Hỷ, Thái Nguyên", "Khóm 2, Phường 8, Thành phố Cà Mau, Cà Mau",
           "Số 45 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh", "Bản Khoang, Xã Tả Phìn, Sa Pa, Lào Cai"]
_PROVINCES = ["001", "010", "012", "019", "038", "040", "046", "079", "092", "096"]


@dataclasses.dataclass
class Frame:
    gray: np.ndarray
    payloads: list[str]  # what a correct decoder returns ([] for frames without a code)
    module_px: float  # 0 when there is no code
    scene: str  # phone | card | none
    conditions: dict = dataclasses.field(default_factory=dict)  # the degradations applied, for diagnosis


def card_payload(rng: random.Random) -> str:
    year = rng.randint(1935, 2006)
    sex = rng.choice(["Nam", "Nữ"])
    digit = (year - 1900) // 100 * 2 + (sex == "Nữ")
    number = f"{rng.choice(_PROVINCES)}{digit}{year % 100:02d}{rng.randint(0, 999999):06d}"
    old = rng.choice(["", f"{rng.randint(0, 999999999):09d}"])
    middle = "Thị" if sex == "Nữ" and rng.random() < 0.6 else rng.choice(_MIDDLE)
    name = f"{rng.choice(_SURNAMES)} {middle} {rng.choice(_GIVEN)}"
    birth = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{year}"
    issue = f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(2021, 2025)}"
    return "|".join([number, old, name, birth, sex, rng.choice(_PLACES), issue])


def login_payload(rng: random.Random) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "VNEID-" + "".join(rng.choice(alphabet) for _ in range(rng.choice([16, 32, 48])))


def qr_modules(payload: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> np.ndarray:
    """The module matrix (True = dark) with a 4-module quiet zone, byte mode, UTF-8, no ECI."""
    code = qrcode.QRCode(error_correction=error_correction, border=4)
    code.add_data(QRData(payload.encode("utf-8"), mode=MODE_8BIT_BYTE))
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def render_code(payload: str, module_px: int = 6) -> np.ndarray:
    """A clean grey image of the code (white quiet zone), for tests and the fake reader."""
    modules = qr_modules(payload)
    img = np.where(modules, 0, 255).astype(np.uint8)
    return cv2.resize(img, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A desk/wall: a light gradient with low-frequency texture and a few dark shapes."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = rng.uniform(60, 170) + rng.uniform(-40, 40) * xx / WIDTH + rng.uniform(-30, 30) * yy / HEIGHT
    texture = cv2.resize(rng.normal(0, 12, (HEIGHT // 40, WIDTH // 40)).astype(np.float32), (WIDTH, HEIGHT))
    img = base + texture
    for _ in range(rng.integers(0, 5)):
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(30, 300)), y + int(rng.integers(10, 200))),
                      float(rng.uniform(10, 240)), -1)
    return img


def _fake_text(img: np.ndarray, rng: np.random.Generator, x0: int, y0: int, x1: int, y1: int, lines: int) -> None:
    """Text-like strokes (card printing, UI labels): structure that must not decode as a code."""
    for i in range(lines):
        y = y0 + int((y1 - y0) * (i + 0.5) / lines)
        x = x0
        while x < x1:
            w = int(rng.integers(8, 40))
            cv2.rectangle(img, (x, y - 6), (min(x + w, x1), y + 6), float(rng.uniform(20, 90)), -1)
            x += w + int(rng.integers(6, 20))


def _object(scene: str, payload: str | None, rng: np.random.Generator, src_module: int = 10):
    """The phone or card as a flat, sharp image plus the quad of the QR inside it (or None)."""
    if scene == "phone":
        h, w = 1600, 800
        obj = np.full((h, w), 25, np.float32)  # phone body
        cv2.rectangle(obj, (40, 120), (w - 40, h - 120), float(rng.uniform(215, 255)), -1)  # screen (backlit)
        _fake_text(obj, rng, 90, 160, w - 90, 330, 3)
        qr_box = (100, 420, w - 100)  # x, y, size limit
    else:  # card: 85.6 x 54 mm, light tint, printing, QR at the top right (2021) or back (2024)
        h, w = 1080, 1712
        obj = np.full((h, w), float(rng.uniform(180, 230)), np.float32)
        _fake_text(obj, rng, 80, 420, 1100, 950, 8)
        qr_box = (1150, 90, 480)
    quad = None
    if payload is not None:
        modules = qr_modules(payload)
        size = qr_box[2] if scene == "card" else qr_box[2] - qr_box[0]
        n = modules.shape[0]
        cell = max(2, size // n)
        code = cv2.resize(np.where(modules, 0.0, 255.0).astype(np.float32), (n * cell, n * cell),
                          interpolation=cv2.INTER_NEAREST)
        screen = float(obj[qr_box[1], qr_box[0]])
        if scene == "phone":  # reflections on the glass lift the screen's black
            dark = screen * float(rng.uniform(0.03, 0.35))
            code = dark + code * ((screen - dark) / 255.0)
        else:  # printed on a tinted, laminated card
            dark = float(rng.uniform(15, 70))
            code = dark + code * ((screen - dark) / 255.0)
        x, y = qr_box[0], qr_box[1]
        obj[y:y + n * cell, x:x + n * cell] = code
        quad = np.float32([[x, y], [x + n * cell, y], [x + n * cell, y + n * cell], [x, y + n * cell]])
        quad = (quad, n)
    else:
        _fake_text(obj, rng, 100, 100, w - 100, h // 3, 4)
    return obj, quad


def make_frame(seed: int, scene: str | None = None, target_module_px: float | None = None) -> Frame:
    """One frame. `scene` in phone/card/none (random by seed when None); `target_module_px` sets the
    code's scale (random 1.5..9 px when None)."""
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    scene = scene or prng.choice(["phone", "phone", "card", "card", "none"])
    has_code = scene != "none"
    payload = None
    if has_code:
        payload = login_payload(prng) if scene == "phone" else card_payload(prng)
    obj_scene = scene if has_code else prng.choice(["phone", "card"])
    obj, quad_n = _object(obj_scene, payload, rng)

    # Place the object: scale chosen so the QR's module hits the target size, then rotate, tilt, move.
    module_px = target_module_px or float(rng.uniform(1.5, 9.0))
    if quad_n is not None:
        quad, n = quad_n
        src_module = (quad[1, 0] - quad[0, 0]) / n
    else:
        src_module = 10.0
    scale = module_px / src_module
    h, w = obj.shape
    angle = float(rng.uniform(-180, 180)) if scene == "phone" else float(rng.uniform(-35, 35))
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]) - [w / 2, h / 2]
    tilt = rng.uniform(-0.18, 0.18, size=(4, 2)).astype(np.float32) * [w, h]
    rot = cv2.getRotationMatrix2D((0, 0), angle, scale)[:, :2].astype(np.float32)
    centre = np.float32([rng.uniform(0.35, 0.65) * WIDTH, rng.uniform(0.35, 0.65) * HEIGHT])
    dst = ((corners + tilt * 0.5) @ rot.T + centre).astype(np.float32)
    if quad_n is not None:  # keep the code itself inside the frame
        homography = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
        q = cv2.perspectiveTransform(quad[None], homography)[0]
        shift = np.float32([0, 0])
        for axis, limit in ((0, WIDTH), (1, HEIGHT)):
            lo, hi = q[:, axis].min(), q[:, axis].max()
            if lo < 10:
                shift[axis] = 10 - lo
            elif hi > limit - 10:
                shift[axis] = limit - 10 - hi
        dst = (dst + shift).astype(np.float32)
    homography = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    mask = cv2.warpPerspective(np.ones_like(obj), homography, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    # Pre-blur the source in proportion to the downscale so warping does not alias like no lens would.
    src_sigma = max(0.0, 0.5 / max(scale, 1e-3) - 0.5)
    src = cv2.GaussianBlur(obj, (0, 0), src_sigma) if src_sigma > 0.3 else obj
    warped = cv2.warpPerspective(src, homography, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
    img = _background(rng) * (1 - mask) + warped * mask

    measured = 0.0
    if quad_n is not None:
        q = cv2.perspectiveTransform(quad[None], homography)[0]
        sides = [np.linalg.norm(q[i] - q[(i + 1) % 4]) for i in range(4)]
        measured = float(np.mean(sides)) / quad_n[1]

    # Light: uneven illumination, then glare (a soft bright ellipse: screen reflection or laminate shine).
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    light = 1.0 + rng.uniform(-0.25, 0.15) * (xx / WIDTH - 0.5) + rng.uniform(-0.2, 0.2) * (yy / HEIGHT - 0.5)
    img = img * light * rng.uniform(0.45, 1.1) + rng.uniform(-15, 20)
    glare = 0.0
    if rng.random() < 0.5:
        aim = q.mean(axis=0) if quad_n is not None else centre
        gx = float(aim[0] + rng.uniform(-120, 120))
        gy = float(aim[1] + rng.uniform(-90, 90))
        sx, sy = rng.uniform(25, 140), rng.uniform(15, 90)
        glare = float(rng.uniform(40, 170))
        img += glare * np.exp(-(((xx - gx) / sx) ** 2 + ((yy - gy) / sy) ** 2))
    # Optics and sensor: defocus, hand shake, noise, then the webcam's MJPEG compression.
    sigma = float(rng.uniform(0.3, 1.6))
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    length = 0
    if rng.random() < 0.25:
        length = int(rng.integers(3, 7))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        spin = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, spin, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    noise = float(rng.uniform(1.5, 10.0))
    img = img + rng.normal(0, noise, img.shape)
    gray = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(rng.integers(40, 92))
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    gray = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    conditions = {"blur_sigma": round(sigma, 2), "motion_px": length, "glare": round(glare), "noise": round(noise, 1),
                  "jpeg_q": quality}
    return Frame(gray=gray, payloads=[payload] if payload else [], module_px=measured, scene=scene,
                 conditions=conditions)


def make_frames(count: int, seed: int = 0) -> list[Frame]:
    return [make_frame(seed * 1_000_003 + i) for i in range(count)]


if __name__ == "__main__":  # dump frames for `kiosk qr decode` by hand: python tests/bench/qrframes.py OUT [N]
    import json
    import sys
    from pathlib import Path

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(make_frames(int(sys.argv[2]) if len(sys.argv) > 2 else 20)):
        cv2.imwrite(str(out / f"frame{index:03d}.png"), frame.gray)
        print(json.dumps({"file": f"frame{index:03d}.png", "codes": frame.payloads, "scene": frame.scene,
                          "module_px": round(frame.module_px, 2), **frame.conditions}, ensure_ascii=False))
