"""Login (issue 11): the citizen chooses a door in plain words, each with a picture — "Tôi có điện thoại có
VNeID" (show the app's code to the camera, or scan the kiosk's own QR), "Tôi có thẻ căn cước gắn chip",
"Tôi cần cán bộ hỗ trợ" — and the screen shows that door's steps. Flow lives in the session
(kiosk.session.login_doors); this screen only shows `session.data.login` and sends events. The demo's
"Mô phỏng" buttons go through `session.services.simulator` (None on a kiosk with real devices)."""
from __future__ import annotations

import logging

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.messages import login_screen as words
from screens.widgets import KioskScreen, choice_text, icon

log = logging.getLogger("kiosk.ui.login")

PIN_LENGTH = 6
STAFF_DIGITS = 4


def qr_texture(text: str) -> Texture:
    """The QR as a texture of one pixel per module (drawn scaled up with "nearest": sharp edges at any size).
    A 3-module quiet zone inside the square; the white page around it completes the 4 the standard asks
    (nothing dark is drawn next to the code)."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=3)
    qr.add_data(text)
    qr.make(fit=True)
    img = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    tex = Texture.create(size=img.size, colorfmt="luminance")
    tex.blit_buffer(img.tobytes(), colorfmt="luminance", bufferfmt="ubyte")
    tex.flip_vertical()
    tex.mag_filter = "nearest"
    tex.min_filter = "nearest"
    return tex


class LoginPanel(BoxLayout):
    """One door's content; `screen` is the LoginScreen (its properties drive the panel's kv)."""

    screen = ObjectProperty(None)


class DoorChoicePanel(LoginPanel):
    pass


class AppCodePanel(LoginPanel):
    pass


class QrPanel(LoginPanel):
    pass


class ChipPanel(LoginPanel):
    pass


class StaffPanel(LoginPanel):
    pass


PANELS = {"choice": DoorChoicePanel, "app_code": AppCodePanel, "qr": QrPanel, "chip": ChipPanel,
          "staff": StaffPanel}


class LoginScreen(KioskScreen):
    preview_texture = ObjectProperty(None, allownone=True)
    door = StringProperty("")
    step = StringProperty("")
    title = StringProperty(words.TITLES[""])
    # the QR door
    qr_state = StringProperty("")
    qr_image = ObjectProperty(None, allownone=True)
    qr_user_code = StringProperty("")
    qr_seconds = NumericProperty(0)
    qr_lifetime = NumericProperty(60)
    # the chip and assisted doors
    chip_steps = ListProperty([])  # [(words, icon, "done" | "now" | "")]
    now_text = StringProperty("")
    now_icon = StringProperty("")
    staff_text = StringProperty("")
    can_use_qr_only = BooleanProperty(False)
    can_retry_chip = BooleanProperty(False)
    # the clerk's sign-in (typed here, sent once)
    staff_kind = StringProperty("CB")
    staff_digits = StringProperty("")
    pin = StringProperty("")
    pin_field = StringProperty("id")  # which box the pad types into: id | pin
    staff_display = StringProperty("CB-____")
    pin_display = StringProperty("")
    # demo hooks (a simulator exists only over fake devices)
    can_show_code = BooleanProperty(False)
    can_approve = BooleanProperty(False)
    can_present_card = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._session = None
        self._reader = None
        self._event = None
        self._panel_key = ""
        self._qr_text = ""
        self._qr_expires_at = None
        self._update_staff_display()

    # ------------------------------------------------------------------ life cycle
    def on_enter(self, *_args) -> None:
        self._event = Clock.schedule_interval(self._tick, 1 / 10)

    def on_leave(self, *_args) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.preview_texture = None
        self.staff_digits = self.pin = ""
        self.pin_field = "id"

    def _tick(self, _dt) -> None:
        self._update_preview()
        self._update_countdown()

    # ------------------------------------------------------------------ render
    def render(self, session) -> None:
        super().render(session)
        self._session = session
        self._reader = session.services.reader
        sim = getattr(session.services, "simulator", None)
        st = session.data.login
        self.door = st.door if st is not None else ""
        self.step = st.step if st is not None else ""
        self.can_show_code = bool(sim is not None and sim.can_show_code)
        self.can_approve = bool(sim is not None and sim.can_approve_login)
        self.can_present_card = bool(sim is not None and sim.can_present_card)
        staff_step = self.door in ("chip", "assisted") and self.step == "staff_pin"
        self.title = words.TITLES["staff" if staff_step else self.door]
        if self.door == "qr_shown":
            self._render_qr(st)
        elif self.door in ("chip", "assisted"):
            self._render_chip(session, st)
        key = {"": "choice", "app_code": "app_code", "qr_shown": "qr"}.get(self.door, "staff" if staff_step else "chip")
        self._show_panel(key)

    def _show_panel(self, key: str) -> None:
        if key == self._panel_key:
            return
        box = self.ids.door_box
        box.clear_widgets()
        box.add_widget(PANELS[key](screen=self))
        self._panel_key = key

    def _render_qr(self, st) -> None:
        self.qr_state = st.qr_state
        qr = st.qr
        if qr is None:
            self.qr_image, self.qr_user_code, self._qr_text, self._qr_expires_at = None, "", "", None
            return
        if qr.qr_text != self._qr_text:
            self._qr_text = qr.qr_text
            self.qr_image = qr_texture(qr.qr_text)
        self.qr_user_code = qr.user_code
        self._qr_expires_at = qr.expires_at
        self._update_countdown()

    def _render_chip(self, session, st) -> None:
        steps = words.CHIP_STEPS
        if self.door == "assisted":  # the clerk signs in first, then the citizen's card
            steps = (steps[2], steps[0], steps[1])
        done = {"id_qr": st.chip_keys is not None or st.id_card is not None, "card": st.chip is not None,
                "staff_pin": st.staff is not None}
        current = self.step or "id_qr"
        self.chip_steps = [(text, icon(name), "done" if done[sid] else ("now" if sid == current else ""))
                           for sid, text, name in steps]
        self.now_text = words.CHIP_NOW.get(current, words.CHIP_NOW["id_qr"])
        self.now_icon = icon({"card": "dat_the", "counter": "ho_tro", "choose_qr_only": "the_qr",
                              "opening": "ho_tro"}.get(current, "the_qr"))
        if current == "card" and session.data.busy:
            self.now_text += " " + words.CHIP_READ_TIME
        if getattr(session.services, "chip_reader", None) is None and current in ("id_qr", "card"):
            self.now_text += "\n" + words.NO_CHIP_READER
        self.staff_text = (words.STAFF_HELPING.format(name=st.staff.staff.display_name)
                           if st.staff is not None else "")
        self.can_use_qr_only = current == "choose_qr_only" and st.staff is not None and not st.chip_blocked
        self.can_retry_chip = (current == "card" and bool(session.data.error) and not session.data.busy
                               and st.chip_keys is not None and not st.chip_blocked)

    def _update_countdown(self) -> None:
        if self._qr_expires_at is None or self._session is None:
            self.qr_seconds = 0
            return
        self.qr_seconds = max(0, int(self._qr_expires_at - self._session.clock() + 0.999))

    # ------------------------------------------------------------------ what the buttons do
    def send(self, event: str, **payload) -> None:
        if event == "back" and self.door:  # "Quay lại" inside a door: back to the choice of doors
            event, payload = "login_door", {"door": ""}
        super().send(event, **payload)

    def choose(self, door: str) -> None:
        self.send("login_door", door=door)

    def door_text(self, index: int, text_factor: float = 1.0) -> str:
        """A door's words: its name in bold and what it means under it; the name alone in large text (three
        doors of four lines each at 1.5x do not fit one screen; the guide and the help panel say the rest)."""
        _door, title, meaning, _icon = words.DOORS[index]
        return choice_text(title, meaning if text_factor <= 1 else "")

    def demo_show_code(self) -> None:
        sim = self._simulator()
        if sim is not None:
            sim.show_code()

    def demo_show_id_card(self) -> None:
        sim = self._simulator()
        if sim is not None:
            sim.show_id_card()

    def demo_show_staff_code(self) -> None:
        sim = self._simulator()
        if sim is not None:
            sim.show_staff_code()

    def demo_present_card(self) -> None:
        sim = self._simulator()
        if sim is not None:
            sim.present_card()

    def demo_approve(self) -> None:
        """Demo: the citizen scans the QR with VNeID and taps "Đồng ý" (off the UI thread: it is an HTTP call)."""
        import threading

        sim, code = self._simulator(), self.qr_user_code
        if sim is not None and code:
            threading.Thread(target=sim.approve_login, args=(code,), daemon=True).start()

    def _simulator(self):
        return getattr(self._session.services, "simulator", None) if self._session is not None else None

    # the clerk's pad
    def set_staff_kind(self, kind: str) -> None:
        self.staff_kind = kind
        self.pin_field = "id"
        self._update_staff_display()

    def press(self, key: str) -> None:
        if key == "backspace":
            if self.pin_field == "pin":
                if self.pin:
                    self.pin = self.pin[:-1]
                else:
                    self.pin_field = "id"
            else:
                self.staff_digits = self.staff_digits[:-1]
        elif key.isdigit():
            if self.pin_field == "id":
                if len(self.staff_digits) < STAFF_DIGITS:
                    self.staff_digits += key
                if len(self.staff_digits) == STAFF_DIGITS:
                    self.pin_field = "pin"
            elif len(self.pin) < PIN_LENGTH:
                self.pin += key
        self._update_staff_display()

    def on_staff_digits(self, *_a) -> None:
        self._update_staff_display()

    def on_pin(self, *_a) -> None:
        self._update_staff_display()

    def _update_staff_display(self) -> None:
        self.staff_display = f"{self.staff_kind}-{self.staff_digits.ljust(STAFF_DIGITS, '_')}"
        self.pin_display = " ".join("•" * len(self.pin) + "_" * (PIN_LENGTH - len(self.pin)))

    def submit_pin(self) -> None:
        if not self.staff_digits or len(self.pin) < 4:
            return
        staff_id = f"{self.staff_kind}-{self.staff_digits.zfill(STAFF_DIGITS)}"
        pin, self.pin = self.pin, ""  # a wrong PIN is typed again; the staff number stays
        self.pin_field = "pin"
        self.send("staff_pin", staff_id=staff_id, pin=pin)

    # ------------------------------------------------------------------ the camera's picture
    def _update_preview(self) -> None:
        if self._reader is None or self.door not in ("", "app_code", "chip", "assisted"):
            return
        try:
            frame = self._reader.preview()
        except Exception:  # noqa: BLE001 - a preview glitch must not stop the login
            log.exception("preview failed")
            return
        if frame is None:
            return
        h, w = frame.shape[:2]
        fmt = "bgr" if frame.ndim == 3 else "luminance"
        tex = self.preview_texture
        if tex is None or tex.size != (w, h) or tex.colorfmt != fmt:
            tex = Texture.create(size=(w, h), colorfmt=fmt)
            tex.flip_vertical()
        tex.blit_buffer(frame.tobytes(), colorfmt=fmt, bufferfmt="ubyte")
        self.preview_texture = tex
