"""Builds devices from configuration. Each driver is imported only when chosen, so a kiosk without SANE never
imports python-sane and one without a camera never opens OpenCV."""
from __future__ import annotations

from typing import Any
from collections.abc import Callable

from drivers.base import CodeReader, Printer, Scanner

def _fake_scanner(s):
    from drivers.fakes.scanner import FakeScanner
    return FakeScanner(delay=s.fake_delay, fault=s.fake_fault)


def _sane_scanner(s):
    from drivers.sane_scanner import SaneScanner
    return SaneScanner(s.device, timeout=s.timeout)


def _fake_printer(s):
    from drivers.fakes.printer import FakePrinter
    return FakePrinter(width_dots=s.width_dots, profile=s.profile, fault=s.fake_fault)


def _escpos_printer(s):
    from drivers.escpos_printer import open_printer
    return open_printer(
        s.connection, profile=s.profile, width_dots=s.width_dots, host=s.host, port=s.port,
        usb_vendor=s.usb_vendor, usb_product=s.usb_product, serial_device=s.serial_device, baudrate=s.baudrate,
        cups_queue=s.cups_queue, file_path=s.file_path, native_qr=s.native_qr, status_query=s.status_query,
        timeout=s.timeout)


def _fake_reader(s):
    from drivers.fakes.reader import FakeCodeReader
    return FakeCodeReader(list(s.fake_codes), fault=s.fake_fault)


def _camera_reader(s):
    from drivers.camera_reader import CameraReader
    device = int(s.device) if s.device.isdigit() else (s.device or 0)
    return CameraReader(device, width=s.width, height=s.height)


def _hid_reader(s):
    from drivers.hid_reader import HidReader
    return HidReader(s.device)


def _serial_reader(s):
    from drivers.serial_reader import SerialReader
    return SerialReader(s.device or "/dev/ttyACM0", baudrate=s.baudrate)


def _fake_speech(s):
    from drivers.fakes.speech import FakeSpeechOutput
    return FakeSpeechOutput(headphones=s.headphones == "always", default_volume=s.default_volume,
                            rate_wpm=s.rate_wpm)


def _espeak_speech(s):
    from drivers.espeak_speech import EspeakSpeech
    return EspeakSpeech(output=s.output, wav_dir=s.wav_dir or None, headphones=s.headphones,
                        default_volume=s.default_volume, rate_wpm=s.rate_wpm, alsa_device=s.alsa_device or None)


def _no_keypad(s):
    return None


def _fake_keypad(s):
    from drivers.fakes.keypad import FakeKeypad
    return FakeKeypad()


def _evdev_keypad(s):
    from drivers.keypad import EvdevKeypad
    return EvdevKeypad(s.device, keymap=dict(s.keymap))


def _no_chip(s):
    return None


def _fake_chip(s):
    from drivers.fakes.chip import FakeChipReader, demo_csca_bundle
    return FakeChipReader(csca=s.csca_bundle or demo_csca_bundle())  # the demo card chains to the demo CSCA


def _pcsc_chip(s):
    from drivers.pcsc_reader import PcscChipReader
    return PcscChipReader(s.reader, csca=s.csca_bundle or None)


#: kind -> driver name -> factory taking the config section (duck-typed: drivers never import kiosk).
DRIVERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "scanner": {"fake": _fake_scanner, "sane": _sane_scanner},
    "printer": {"fake": _fake_printer, "escpos": _escpos_printer},
    "code_reader": {"fake": _fake_reader, "camera": _camera_reader, "hid": _hid_reader, "serial": _serial_reader},
    "speech": {"fake": _fake_speech, "espeak": _espeak_speech},
    "keypad": {"none": _no_keypad, "fake": _fake_keypad, "evdev": _evdev_keypad},
    "chip_reader": {"none": _no_chip, "fake": _fake_chip, "pcsc": _pcsc_chip},
}


class UnknownDriver(ValueError):
    pass


def build(kind: str, section: Any) -> Any:
    """Build the device of `kind` described by a config section (a pydantic model with a `driver` field)."""
    try:
        factory = DRIVERS[kind][section.driver]
    except KeyError:
        raise UnknownDriver(
            f"{kind}.driver: no driver named {section.driver!r} (known: {sorted(DRIVERS.get(kind, {}))})") from None
    return factory(section)


def build_scanner(section: Any) -> Scanner:
    return build("scanner", section)


def build_printer(section: Any) -> Printer:
    return build("printer", section)


def build_reader(section: Any) -> CodeReader:
    return build("code_reader", section)


def build_speech(section: Any) -> Any:
    """A drivers.speech.SpeechOutput."""
    return build("speech", section)


def build_keypad(section: Any) -> Any:
    """A drivers.keypad.Keypad, or None for driver "none"."""
    return build("keypad", section)


def build_chip_reader(section: Any) -> Any:
    """A drivers.chip.ChipReader (the chip ID card, issue 11), or None for driver "none"."""
    return build("chip_reader", section)


def simulator(**devices: Any) -> Any:
    """The demo's "Mô phỏng" hooks (drivers.fakes.simulator) when some of `devices` are fakes, else None."""
    from drivers.fakes.simulator import simulator_for

    return simulator_for(**devices)
