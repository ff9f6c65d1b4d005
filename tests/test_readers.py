"""Code readers: the fake (demo/tests), the camera (a video file as the camera), the serial scanner (a pty
pair as the USB CDC port) and the keyboard-wedge scanner.

/dev/uinput does not exist on the CI machines, so HidReader is driven through its `open_device` hook by a
stand-in evdev device (a pipe for select(), synthetic key events), and KeyTranslator is tested on
synthetic events; the real evdev path is covered only for "device missing".
"""
from __future__ import annotations

import errno
import os
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from evdev import InputEvent, ecodes

from drivers.base import CodeReader, DeviceBusy, DeviceGone, Health
from drivers.camera_reader import CameraReader
from drivers.fakes.reader import FakeCodeReader
from drivers.hid_reader import HidReader, KeyTranslator
from drivers.serial_reader import SerialReader
from kiosk.domain.codes import IdCardQr, Rejected, parse_code

sys.path.insert(0, str(Path(__file__).parent / "bench"))
from qrframes import render_code  # noqa: E402

CARD = "001090012345||Nguyễn Văn An|01011990|Nam|Thôn Bản Lầu, Xã Mường Khương, Lào Cai|15082021"


# --------------------------------------------------------------------------------------------- fake
def test_fake_reader_hands_over_a_presented_code_after_its_delay():
    reader = FakeCodeReader(delay=0.2)
    reader.start()
    assert reader.read(timeout=0.05) is None
    reader.present("VNEID-TEST-0001")
    started = time.monotonic()
    read = reader.read(timeout=2)
    assert read is not None and read.text == "VNEID-TEST-0001" and read.source == "fake"
    assert 0.15 <= time.monotonic() - started < 1.0
    assert reader.read(timeout=0.05) is None


def test_fake_reader_initial_codes_come_in_order():
    reader = FakeCodeReader(["VNEID-TEST-0001", CARD], delay=0)
    assert [reader.read(0.5).text, reader.read(0.5).text] == ["VNEID-TEST-0001", CARD]


def test_fake_reader_present_image_uses_the_real_decoder():
    reader = FakeCodeReader(delay=0)
    assert reader.present_image(render_code(CARD)) == [CARD]
    assert isinstance(parse_code(reader.read(0.5).text), IdCardQr)
    assert reader.present_image(np.full((300, 300), 255, np.uint8)) == []
    assert reader.read(0.05) is None


def test_fake_reader_faults():
    gone = FakeCodeReader(["VNEID-TEST-0001"], fault="gone")
    with pytest.raises(DeviceGone):
        gone.read(0.1)
    assert gone.status().health is Health.FAILED and gone.status().error_kind == "device_gone"

    silent = FakeCodeReader(["VNEID-TEST-0001"], delay=0, fault="timeout")
    assert silent.read(0.1) is None

    garbage = FakeCodeReader(delay=0.01, fault="garbage")
    read = garbage.read(0.5)
    assert read is not None and isinstance(parse_code(read.text), Rejected)
    with pytest.raises(ValueError):
        FakeCodeReader(fault="on-fire")


def test_stopping_the_fake_releases_a_waiting_read():
    reader = FakeCodeReader()
    threading.Timer(0.1, reader.stop).start()
    started = time.monotonic()
    assert reader.read(timeout=5) is None
    assert time.monotonic() - started < 1.0


def test_unplugging_the_fake_wakes_a_waiting_read():
    reader = FakeCodeReader()
    threading.Timer(0.1, reader.set_fault, args=("gone",)).start()
    started = time.monotonic()
    with pytest.raises(DeviceGone):
        reader.read(timeout=5)
    assert time.monotonic() - started < 1.0


# --------------------------------------------------------------------------------------------- serial
@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_serial_scanner_lines_become_codes(pty_pair):
    master, port = pty_pair
    reader = SerialReader(port, baudrate=9600)
    reader.start()
    try:
        payload = CARD.encode("utf-8")
        split = payload.index("ễ".encode()) + 1  # cut inside a multi-byte character
        os.write(master, b"VNEID-TEST-0001\r\n")
        os.write(master, payload[:split])
        time.sleep(0.15)
        os.write(master, payload[split:] + b"\r\n\r\nDVCK1|H38.01-2026-000123\r")
        texts = [reader.read(2).text for _ in range(3)]
        assert texts == ["VNEID-TEST-0001", CARD, "DVCK1|H38.01-2026-000123"]
        assert reader.read(0.1) is None  # the blank line produced nothing
        assert reader.status().health is Health.OK
    finally:
        reader.stop()


def test_stopping_a_reader_releases_a_waiting_read(pty_pair):
    """Leaving the login screen stops the reader; the worker blocked in read() must come back at once."""
    _master, port = pty_pair
    reader = SerialReader(port)
    reader.start()
    threading.Timer(0.2, reader.stop).start()
    started = time.monotonic()
    assert reader.read(timeout=5) is None
    assert time.monotonic() - started < 2.0


def test_serial_scanner_drops_runaway_lines(pty_pair):
    master, port = pty_pair
    reader = SerialReader(port)
    reader.start()
    try:
        for _ in range(5):
            os.write(master, b"X" * 1000)
        os.write(master, b"\nVNEID-TEST-0001\n")
        assert reader.read(2).text == "VNEID-TEST-0001"
        assert reader.read(0.1) is None
    finally:
        reader.stop()


def test_a_runaway_line_is_dropped_whole_however_the_port_chunks_it(pty_pair):
    """The tail of a too-long line, read after its start was thrown away, is not a code (it was delivered as one
    when the port's reads split the line past the limit, as a loaded machine does)."""
    master, port = pty_pair
    reader = SerialReader(port)
    reader.start()
    try:
        os.write(master, b"X" * 4000)
        time.sleep(0.3)  # the reader takes these 4000 bytes in before the rest arrives
        os.write(master, b"X" * 1000)
        time.sleep(0.3)
        os.write(master, b"Y" * 200 + b"\nVNEID-TEST-0001\n")
        assert reader.read(2).text == "VNEID-TEST-0001"
        assert reader.read(0.2) is None
    finally:
        reader.stop()


def test_serial_scanner_unplugged_mid_session(pty_pair):
    master, port = pty_pair
    reader = SerialReader(port)
    reader.start()
    os.write(master, b"VNEID-TEST-0001\n")
    time.sleep(0.2)
    os.close(master)
    assert reader.read(2).text == "VNEID-TEST-0001"  # what was read before the loss is not lost
    with pytest.raises(DeviceGone):
        reader.read(2)
    assert reader.status().health is Health.FAILED
    reader.stop()


def test_serial_scanner_missing_port():
    reader = SerialReader("/dev/ttyACM-missing")
    assert reader.status().health is Health.FAILED
    with pytest.raises(DeviceGone):
        reader.start()
    with pytest.raises(DeviceGone):
        reader.read(0.1)


# --------------------------------------------------------------------------------------------- HID
_SHIFTED = {"_": "MINUS", "|": "BACKSLASH", ":": "SEMICOLON", "?": "SLASH", "+": "EQUAL"}
_PLAIN = {"-": "MINUS", ".": "DOT", "/": "SLASH", " ": "SPACE", ",": "COMMA", "|": None}


def _keystrokes(text: str, alt_codes: bool = True) -> list[tuple[int, int]]:
    """Key events a US-layout scanner sends for `text` (non-ASCII as Alt + keypad decimal code point)."""
    events: list[tuple[int, int]] = []

    def tap(name: str, shift: bool = False) -> None:
        code = ecodes.ecodes[f"KEY_{name}"]
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, 1))
        events.extend([(code, 1), (code, 0)])
        if shift:
            events.append((ecodes.KEY_LEFTSHIFT, 0))

    for ch in text:
        if ch.isascii() and ch.isalpha():
            tap(ch.upper(), shift=ch.isupper())
        elif ch.isascii() and ch.isdigit():
            tap(ch)
        elif ch in _SHIFTED:
            tap(_SHIFTED[ch], shift=True)
        elif ch in _PLAIN and _PLAIN[ch]:
            tap(_PLAIN[ch])
        elif alt_codes:
            events.append((ecodes.KEY_LEFTALT, 1))
            for digit in str(ord(ch)):
                tap(f"KP{digit}")
            events.append((ecodes.KEY_LEFTALT, 0))
    tap("ENTER")
    return events


def _translate(events) -> list[str]:
    translator = KeyTranslator()
    return [code for code in (translator.feed(c, v) for c, v in events) if code is not None]


def test_key_events_become_the_scanned_text():
    assert _translate(_keystrokes("VNEID-TEST-0001")) == ["VNEID-TEST-0001"]
    assert _translate(_keystrokes("DVCK1|H38.01-2026_x:y?")) == ["DVCK1|H38.01-2026_x:y?"]


def test_alt_code_output_carries_vietnamese():
    assert _translate(_keystrokes(CARD)) == [CARD]


def test_caps_lock_and_keypad_digits():
    caps = [(ecodes.KEY_CAPSLOCK, 1), (ecodes.KEY_CAPSLOCK, 0), (ecodes.KEY_A, 1), (ecodes.KEY_A, 0),
            (ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_B, 1), (ecodes.KEY_LEFTSHIFT, 0), (ecodes.KEY_1, 1),
            (ecodes.KEY_KP7, 1), (ecodes.KEY_KPENTER, 1)]
    assert _translate(caps) == ["Ab17"]


def test_repeats_empty_scans_and_runaway_codes():
    translator = KeyTranslator(max_chars=10)
    assert translator.feed(ecodes.KEY_ENTER, 1) is None
    assert [translator.feed(ecodes.KEY_A, v) for v in (1, 2, 2, 0)] == [None] * 4
    assert translator.feed(ecodes.KEY_ENTER, 1) == "a"
    for _ in range(11):
        translator.feed(ecodes.KEY_B, 1)
    assert translator.feed(ecodes.KEY_ENTER, 1) is None
    assert _translate(_keystrokes("VNEID-TEST-0001"))  # a fresh translator still reads


class _StandInInputDevice:
    """Quacks like evdev.InputDevice: a pipe makes select() see readiness; events are synthetic."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._r, self._w = os.pipe()
        self.fd = self._r
        self.events: list[InputEvent] = []
        self.grabbed = self.closed = self.unplugged = False
        self.lock = threading.Lock()

    def type_keys(self, keys) -> None:
        with self.lock:
            self.events += [InputEvent(0, 0, ecodes.EV_KEY, c, v) for c, v in keys]
        os.write(self._w, b"x")

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self._w, b"x")

    def read_one(self):
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        with self.lock:
            if self.events:
                return self.events.pop(0)
        os.read(self._r, 4096)
        return None

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        self.closed = True
        os.close(self._r)
        os.close(self._w)


def test_hid_reader_grabs_the_scanner_and_reads_codes():
    devices: list[_StandInInputDevice] = []
    reader = HidReader("/dev/input/by-id/usb-scanner-event-kbd",
                       open_device=lambda p: devices.append(_StandInInputDevice(p)) or devices[-1])
    reader.start()
    dev = devices[0]
    assert dev.grabbed  # key presses never reach the kiosk's text fields
    dev.type_keys(_keystrokes("VNEID-TEST-0001") + _keystrokes(CARD))
    assert [reader.read(2).text, reader.read(2).text] == ["VNEID-TEST-0001", CARD]
    assert reader.read(0.05) is None
    reader.stop()
    assert dev.closed and not dev.grabbed


def test_hid_reader_ends_a_code_without_suffix_after_an_idle_gap():
    devices: list[_StandInInputDevice] = []
    reader = HidReader("kbd", idle_end_s=0.1,
                       open_device=lambda p: devices.append(_StandInInputDevice(p)) or devices[-1])
    reader.start()
    devices[0].type_keys(_keystrokes("VNEID-TEST-0001")[:-2])  # no Enter
    assert reader.read(2).text == "VNEID-TEST-0001"
    reader.stop()


def test_hid_reader_unplugged():
    devices: list[_StandInInputDevice] = []
    reader = HidReader("kbd", open_device=lambda p: devices.append(_StandInInputDevice(p)) or devices[-1])
    reader.start()
    devices[0].unplug()
    with pytest.raises(DeviceGone):
        reader.read(2)
    assert reader.status().error_kind == "device_gone"
    reader.stop()


def test_hid_reader_grabbed_by_another_program():
    class Grabbed(_StandInInputDevice):
        def grab(self) -> None:
            raise OSError(errno.EBUSY, "Device or resource busy")

    reader = HidReader("kbd", open_device=Grabbed)
    with pytest.raises(DeviceBusy):
        reader.start()


def test_hid_reader_missing_device():
    reader = HidReader("/dev/input/by-id/no-such-scanner")
    assert reader.status().health is Health.FAILED
    with pytest.raises(DeviceGone):
        reader.start()


# --------------------------------------------------------------------------------------------- camera
def _write_video(path: Path, payload: str | None, frames: int = 24, fps: float = 24.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 360))
    assert writer.isOpened()
    code = render_code(payload, module_px=4) if payload else None
    for i in range(frames):
        frame = np.full((360, 640, 3), 170, np.uint8)
        if code is not None:
            x = 100 + i  # the citizen's hand drifts a little
            frame[20:20 + code.shape[0], x:x + code.shape[1]] = code[:, :, None]
        writer.write(frame)
    writer.release()


def test_camera_reads_a_held_up_code_once_and_shows_a_preview(tmp_path):
    video = tmp_path / "login.avi"
    _write_video(video, CARD)
    reader = CameraReader(str(video))
    assert isinstance(reader, CodeReader)
    reader.start()
    try:
        read = reader.read(timeout=5)
        assert read is not None and read.text == CARD and read.source == "camera"
        assert reader.read(timeout=0.5) is None  # still in view: not read again
        preview = reader.preview()
        assert preview is not None and preview.shape == (360, 640, 3)
        assert reader.status().health is Health.OK
    finally:
        reader.stop()
    reader.stop()  # idempotent


def test_camera_lost_mid_session(tmp_path):
    video = tmp_path / "short.avi"
    _write_video(video, None, frames=6)
    reader = CameraReader(str(video), loop_file=False)
    reader.start()
    with pytest.raises(DeviceGone):
        reader.read(timeout=3)
    assert reader.status().health is Health.FAILED
    reader.stop()


def test_camera_that_cannot_be_opened(tmp_path):
    reader = CameraReader(str(tmp_path / "missing.avi"))
    assert reader.status().health is Health.FAILED
    with pytest.raises(DeviceGone):
        reader.start()
    with pytest.raises(DeviceGone):
        CameraReader(9).start()
    not_a_video = tmp_path / "notes.avi"
    not_a_video.write_text("not a video")
    reader = CameraReader(str(not_a_video))
    reader.start()  # returns at once: the capture is opened on the camera's own thread
    with pytest.raises(DeviceGone):
        reader.read(timeout=3)
    reader.stop()
