"""Technician mode: a hidden gesture (five quick taps on the centre's name, between sessions only) opens a PIN pad;
the right PIN opens a panel with device health, the outbox, the portal, versions and recent errors, and the
technician's actions: test print, scan and read, reprint the last receipt, out of service and back, restart."""
from __future__ import annotations

import logging
import platform
import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView

log = logging.getLogger("kiosk.appliance.technician")

TAPS_TO_OPEN = 5
TAP_WINDOW = 3.0
from kiosk.appliance.runtime import EXIT_RESTART  # noqa: E402


class SecretGesture:
    """Counts taps in the header's top-left corner; five within three seconds open the PIN pad."""

    def __init__(self, on_open) -> None:
        self.on_open = on_open
        self._taps: list[float] = []

    def touch(self, x: float, y: float, width: float, height: float, scale: float) -> bool:
        if not (x < 360 * scale and y > height - 110 * scale):
            self._taps.clear()
            return False
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t < TAP_WINDOW] + [now]
        if len(self._taps) >= TAPS_TO_OPEN:
            self._taps.clear()
            self.on_open()
            return True
        return False


class PinPad(ModalView):
    pin = StringProperty("")
    message = StringProperty("Nhập mã PIN kỹ thuật viên")

    def __init__(self, auth, on_success, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.auth, self.on_success = auth, on_success
        if not auth.configured or auth.locked_for() > 0:
            self.message = auth.message()

    def press(self, key: str) -> None:
        if key == "backspace":
            self.pin = self.pin[:-1]
        elif key.isdigit() and len(self.pin) < 12:
            self.pin += key

    def submit(self) -> None:
        pin, self.pin = self.pin, ""
        if self.auth.verify(pin):
            log.info("technician mode opened")
            self.dismiss()
            self.on_success()
        else:
            self.message = self.auth.message()


class TechnicianPanel(ModalView):
    devices = StringProperty("")
    outbox = StringProperty("")
    portal = StringProperty("")
    versions = StringProperty("")
    errors = StringProperty("")
    result = StringProperty("")
    held = BooleanProperty(False)

    def __init__(self, app, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app
        self.held = app.monitor is not None and app.monitor.held_reason is not None
        self.refresh()

    @property
    def services(self):
        return self.app.session.services

    def _job(self, label: str, fn, done=None) -> None:
        self.result = f"{label}…"

        def finish(value, error):
            if error is not None:
                self.result = f"{label}: LỖI — {type(error).__name__}: {getattr(error, 'detail', error)}"
            else:
                self.result = f"{label}: xong" + (f" — {value}" if isinstance(value, str) and value else "")
                if done:
                    done(value)

        self.app.session.runner.submit(fn, finish)

    def refresh(self) -> None:
        from kiosk import __version__
        from kiosk.appliance.logs import RECENT

        import kivy

        self.versions = (f"DVC Kiosk {__version__} · Python {platform.python_version()} · Kivy {kivy.__version__} · "
                         f"máy {self.services.config.kiosk.id}")
        self.errors = "\n".join(list(RECENT)[-8:]) or "Không có lỗi gần đây."
        outbox = self.services.outbox
        age = outbox.oldest_pending_age()
        self.outbox = f"{outbox.depth()}" + (f" (lâu nhất {age / 60:.0f} phút)" if age else "")

        def checks():
            from kiosk.appliance.doctor import quick_checks

            return quick_checks(self.services)

        def show(result) -> None:
            rows = [f"{c.name}: {c.severity} — {c.detail}" for c in result]
            self.devices = "\n".join(r for r, c in zip(rows, result, strict=True) if c.name != "portal")
            self.portal = "\n".join(r for r, c in zip(rows, result, strict=True) if c.name in ("portal", "clock"))

        self._job("Kiểm tra thiết bị", checks, show)

    def test_print(self) -> None:
        from kiosk.domain.receipt import test_slip_job

        printer, kiosk_id = self.services.printer, self.services.config.kiosk.id
        self._job("In thử", lambda: f"{len(printer.print_job(test_slip_job(kiosk_id, printer.width_dots)))} byte")

    def test_scan(self) -> None:
        from drivers.base import ScanSettings, ScanSource

        scanner, cfg = self.services.scanner, self.services.config.scanner
        settings = ScanSettings(source=ScanSource(cfg.source), dpi=150, mode="gray", max_pages=1)
        self._job("Quét thử", lambda: f"{len(scanner.scan(settings, timeout=cfg.timeout))} trang")

    def test_read(self) -> None:
        reader = self.services.reader

        def read():
            reader.start()
            try:
                got = reader.read(timeout=10.0)
            finally:
                reader.stop()
            return f"đọc được {len(got.text)} ký tự" if got else "không thấy mã trong 10 giây"

        self._job("Đọc mã thử", read)

    def reprint(self) -> None:
        job, printer = self.services.last_receipt, self.services.printer
        if job is None:
            self.result = "Chưa có biên nhận nào để in lại."
            return
        self._job("In lại biên nhận", lambda: f"{len(printer.print_job(job))} byte")

    def toggle_service(self) -> None:
        monitor = self.app.monitor
        if monitor.held_reason is None:
            monitor.hold("tạm ngừng bởi kỹ thuật viên")
            self.held = True
        else:
            monitor.release()
            self.held = False

    def restart(self) -> None:
        log.warning("restart requested from technician mode")
        self.app.exit_code = EXIT_RESTART
        Clock.schedule_once(lambda _dt: App.get_running_app().stop(), 0.1)


def open_pin_pad(app) -> None:
    from kiosk.appliance.technician import TechnicianAuth

    cfg = app.session.services.config
    auth = TechnicianAuth(app.session.services.outbox.dir, cfg.kiosk.technician_pin_hash)
    PinPad(auth, on_success=lambda: TechnicianPanel(app).open()).open()
