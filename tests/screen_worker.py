"""Renders the citizen's screens in one Kivy process (offscreen SDL), each in a chosen session state, and reports
what is drawn: a capture per case (`.npy`, RGB) and, in OUT_DIR/report.json, every visible label's text, where it
is, and whether it is clipped or overflows its box. Usage:

    python tests/screen_worker.py OUT_DIR [CASE ...]

Cases are named "<state>-<variant>", or "<state>-<variant>@<mode>" for an accessibility mode (MODES: large text,
high contrast, English — set in the session's data as the header's buttons would); each runs in landscape
1920×1080 and portrait 1080×1920 (file names end in -landscape / -portrait). The session is a real `Session` with
fake devices and a clock that never moves; its state and data are set directly (nothing is sent to a portal)."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from screens import kivy_env  # noqa: E402

kivy_env.configure(size=(1920, 1080), headless=True)

from kivy.app import App  # noqa: E402
from kivy.base import EventLoop  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: E402

from drivers.base import ScannedPage  # noqa: E402
from drivers.fakes.printer import FakePrinter  # noqa: E402
from drivers.fakes.reader import FakeCodeReader  # noqa: E402
from drivers.fakes.scanner import FakeScanner  # noqa: E402
from kiosk import messages  # noqa: E402
from kiosk.appliance import config  # noqa: E402
from kiosk.appliance import services as services_mod  # noqa: E402
from kiosk.portal.models import CitizenProfile, OtpChallenge, QueueTicket  # noqa: E402
from kiosk.session.machine import Component, ManualRunner, Session, SessionData, State  # noqa: E402

BIRTH = "1.001193"
SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
NOW = dt.datetime(2026, 3, 16, 9, 30)


class FrozenClock:
    def __call__(self) -> float:
        return 1000.0


def make_session() -> Session:
    data_dir = Path(tempfile.mkdtemp(prefix="kiosk-golden-"))
    settings = config.load(portal={"url": "http://127.0.0.1:9"},
                           kiosk={"data_dir": str(data_dir), "centre_name": "Bộ phận Một cửa UBND xã Tân Lập"})
    svc = services_mod.build(settings, data_dir=data_dir, scanner=FakeScanner(delay=0),
                             printer=FakePrinter(width_dots=576), reader=FakeCodeReader(delay=0))
    svc.now = lambda: NOW  # the clock in the header, the appointment date: the same every run
    return Session(svc, ManualRunner(), clock=FrozenClock())


def citizen() -> CitizenProfile:
    return CitizenProfile(id_number="001099012345", full_name="Nguyễn Văn An", birth_date=dt.date(1950, 1, 1),
                          phone_masked="09xx xxx 123")


def _page():
    from PIL import Image

    return ScannedPage(Image.new("L", (62, 88), 255), 75)


def birth_data(session: Session, **extra) -> SessionData:
    d = SessionData()
    d.procedure = session.services.catalog.get(BIRTH)
    d.citizen = citizen()
    d.consented = True
    d.form_values = {"declarant_full_name": "Nguyễn Văn An"}
    d.fee_text = "Miễn lệ phí"
    d.appointment_date = dt.date(2026, 3, 17)
    for k, v in extra.items():
        setattr(d, k, v)
    return d


ANSWERS = {"child_full_name": "H'Hen Niê", "child_birth_date": "05/03/2026", "child_sex": "Nữ",
           "birth_place": "Trạm y tế xã Tân Lập", "mother_full_name": "Lê Thị Hồng Nhung",
           "declarant_full_name": "Nguyễn Văn An"}


def components(session: Session, pages: int = 1) -> list[Component]:
    comps = [Component(doc.id, doc.name, doc.min_pages) for doc in session.services.catalog.get(BIRTH).documents
             if doc.scan_at_kiosk]
    for c in comps:
        c.submitted_pages = pages
    return comps


def case_state(name: str, session: Session):
    """(state, data, action) for a case; action(screen) runs after the first render (typing, taps)."""
    s = session
    none = None
    if name == "attract-idle":
        return State.ATTRACT, SessionData(), none
    if name == "attract-cancelled":
        return State.ATTRACT, SessionData(notice=messages.CANCELLED_NOTICE), none
    if name == "procedure-list":
        return State.PROCEDURE, SessionData(), none
    if name == "procedure-typing":
        def typing(screen):
            screen.start_typing()
            for key in "khai sinh":
                screen.ids.keyboard.press("space" if key == " " else key)
        return State.PROCEDURE, SessionData(), typing
    if name == "consent-notice":
        return State.CONSENT, birth_data(s, citizen=None), none
    if name.startswith("form-"):
        variant = name[5:]
        d = birth_data(s)
        if variant == "name-empty":
            d.form_index = 0
            return State.FORM, d, none
        if variant == "name-typing":
            d.form_index = 0

            def type_name(screen):
                screen.focus_current()
                for key in ["h", "'", "h", "e", "n", "space", "n", "i", "e", "hat"]:
                    screen.ids.keyboard.press(key)
            return State.FORM, d, type_name
        if variant == "name-error":
            d.form_index = 0
            d.form_errors = {"child_full_name": "Vui lòng nhập họ và tên của trẻ."}
            return State.FORM, d, none
        if variant == "place-typing":
            d.form_index = 3
            d.form_values.update({k: ANSWERS[k] for k in ("child_full_name", "child_birth_date", "child_sex")})

            def type_place(screen):
                screen.focus_current()
                for key in ["t", "r", "a", "m", "ạ", "space", "y", "ạ", "space", "t", "e", "hat", "space",
                            "t", "a", "n", "space", "l", "a", "hat", "p", "ạ"]:
                    screen.ids.keyboard.press(key)
            return State.FORM, d, type_place
        if variant == "sex-choice":
            d.form_index = 2
            d.form_errors = {"child_sex": "Vui lòng chọn giới tính của trẻ."}
            return State.FORM, d, none
        if variant == "date-typing":
            d.form_index = 1

            def type_date(screen):
                screen.focus_current()
                for key in "05/03/2026":
                    screen.ids.keyboard.press(key)
            return State.FORM, d, type_date
    if name == "review-all":
        d = birth_data(s, form_values=dict(ANSWERS), components=components(s))
        return State.REVIEW, d, none
    if name.startswith("otp-"):
        d = birth_data(s, form_values=dict(ANSWERS), components=components(s))
        d.otp = OtpChallenge(otp_id="otp-00000001", sent_to="09xx xxx 123", expires_at=NOW, length=6)
        d.otp_attempts_left = 3
        d.notice = "Mã xác nhận đã được gửi tới số điện thoại 09xx xxx 123"

        def type_code(screen):
            for key in "123456":
                screen.press(key)
        return State.OTP, d, (type_code if name == "otp-typed" else none)
    if name.startswith("done-"):
        d = birth_data(s, form_values=dict(ANSWERS), components=components(s), received_at=NOW)
        d.local_reference = "K-HN-0001-260316-0931-A7"
        d.lookup_secret = "KX7RF4"  # printed beside the code; status look-up needs both (issue 14)
        ticket = QueueTicket(number="A015", counter="Quầy 2", waiting=3, issued_at=NOW)
        if name == "done-printed":
            d.delivered, d.dossier_code, d.receipt_printed, d.ticket = True, "H38.01-260316-0042", True, ticket
        elif name == "done-portal-down":
            d.receipt_printed, d.ticket = True, None
        elif name == "done-paper-out":
            d.delivered, d.dossier_code, d.ticket = True, "H38.01-260316-0042", None
            from drivers.base import PaperOut

            d.print_error = messages.for_exception(PaperOut("paper out"), device_kind="printer")
        d.print_started = True
        return State.DONE, d, none
    if name == "procedure_info-birth":
        return State.PROCEDURE_INFO, birth_data(s, citizen=None, consented=False), none
    if name == "documents-first":
        return State.DOCUMENTS, birth_data(s, form_values=dict(ANSWERS), components=components(s, pages=0)), none
    if name == "submitting-wait":
        d = birth_data(s, form_values=dict(ANSWERS), components=components(s))
        return State.SUBMITTING, d, none
    if name == "rating-faces":
        return State.RATING, birth_data(s), none
    if name.startswith("login-"):
        return login_case(name, s)
    if name.startswith("queue_ticket-"):
        d = SessionData()
        if name == "queue_ticket-number":
            d.ticket = QueueTicket(number="A015", counter="Quầy 2", waiting=3, issued_at=NOW)
        else:  # the portal did not answer: no number, what to do instead
            from kiosk.portal.client import PortalUnreachable

            d.error = messages.for_exception(PortalUnreachable("connect timeout"))
        return State.QUEUE_TICKET, d, none
    if name == "out_of_service-printer":
        s.out_of_service_reason = "printer: paper_out"
        return State.OUT_OF_SERVICE, SessionData(), none
    if name == "form-timeout-warning":  # the countdown before the wipe, over the first question
        from screens.widgets import TimeoutWarning

        d = birth_data(s)
        d.form_index = 0

        def warn(screen):
            warning = TimeoutWarning(on_continue=lambda: None)
            warning.seconds = 20
            warning.open(animation=False)
        return State.FORM, d, warn
    if name.startswith("help-"):  # the "Trợ giúp" panel over a screen; "called": after "Gọi cán bộ" arrived
        from screens.widgets import open_help

        if name == "help-attract":
            return State.ATTRACT, SessionData(), lambda screen: open_help()
        d = birth_data(s)
        d.form_index, d.staff_call = 0, "sent"
        return State.FORM, d, lambda screen: open_help()
    raise KeyError(name)


def login_case(name: str, session: Session):
    """The login doors (issue 11): the choice, the kiosk's QR in its states, the chip card, the clerk's PIN."""
    from drivers.chip import BacKeys
    from kiosk.messages import identity as idmsg
    from kiosk.portal.oidc import QrLogin
    from kiosk.session.login_doors import DoorState

    d = birth_data(session, citizen=None, form_values={})
    st = d.login = DoorState()
    variant = name[len("login-"):]
    if variant == "app-code":
        st.door = "app_code"
    elif variant.startswith("qr-"):
        st.door, st.step = "qr_shown", "qr"
        st.qr = QrLogin(device_code="golden", user_code="BCDFGHJK", nonce="n", expires_at=1045.0, interval=1.0,
                        qr_text="http://127.0.0.1:8765/oidc/device?user_code=BCDFGHJK")
        st.qr_state = variant[3:]
        if st.qr_state == "denied":
            d.error = idmsg.message("oidc_denied")
        if st.qr_state == "expired":
            d.error = idmsg.message("oidc_expired")
    elif variant.startswith("chip-"):
        st.door = "chip"
        st.chip_keys = BacKeys("090012345", "900101", "300101")
        st.id_card = {"id_number": "001090012345"}
        if variant == "chip-card":
            st.step, d.busy = "card", "Đang đọc thẻ căn cước… Giữ yên thẻ trên ô đọc."
        elif variant == "chip-removed":
            st.step, d.error = "card", idmsg.message("card_removed")
        elif variant == "chip-failed":
            st.step, st.chip_blocked, st.chip_keys = "counter", True, None
            d.error = idmsg.message("card_not_trusted")
    elif variant == "staff-pin":
        st.door, st.step = "assisted", "staff_pin"

        def type_pin(screen):
            for key in "0001" + "2468":
                screen.press(key)
        return State.LOGIN, d, type_pin
    return State.LOGIN, d, None


CASES = ["attract-idle", "attract-cancelled", "procedure-list", "procedure-typing", "consent-notice",
         "form-name-empty", "form-name-typing", "form-name-error", "form-place-typing", "form-sex-choice",
         "form-date-typing", "procedure_info-birth", "documents-first", "review-all", "submitting-wait", "otp-empty",
         "otp-typed", "done-printed", "done-portal-down",
         "done-paper-out", "rating-faces", "help-attract", "help-form-called",
         "queue_ticket-number", "queue_ticket-portal-down", "out_of_service-printer",
         "login-doors", "login-app-code", "login-qr-waiting", "login-qr-denied", "login-qr-expired", "login-chip-card",
         "login-chip-removed", "login-chip-failed", "login-staff-pin",
         # accessibility modes (issue 12): a lean set of screens in large text, high contrast, English, keypad
         "attract-idle@large", "procedure_info-birth@large", "form-name-typing@large", "documents-first@large",
         "otp-typed@large", "done-printed@large", "rating-faces@large", "review-all@large",
         "attract-idle@contrast", "form-name-error@contrast", "review-all@contrast",
         "attract-idle@en", "consent-notice@en", "form-name-error@en", "review-all@en", "done-paper-out@en",
         "help-form-called@en", "queue_ticket-number@en", "procedure-list@en", "procedure_info-birth@en",
         "form-sex-choice@en", "out_of_service-printer@large",
         "form-name-typing@large+contrast", "documents-first@keypad+contrast",
         # the keypad's arrows moved the focus one control on from the main action; what the warning before the
         # inactivity wipe looks like to someone who needs large text; the doors and ticket in both modes
         "review-all@keypad+moved", "form-timeout-warning", "form-timeout-warning@large+contrast",
         "consent-notice@large+contrast", "login-doors@large+contrast", "queue_ticket-number@large+contrast",
         # a finger swipes the too-long body up (starting on a procedure's tile): it scrolls, nothing is pressed
         "attract-idle@large+swiped", "login-qr-waiting@large"]

#: mode -> what the header's buttons set in the session's data (a "+" joins modes).
MODES = {"large": {"large_text": True}, "contrast": {"high_contrast": True}, "en": {"lang": "en"},
         "keypad": {"keypad_mode": True, "speech_mode": True}, "moved": {}, "swiped": {}}  # see main()


def with_mode(name: str, session: Session):
    base, _, mode = name.partition("@")
    state, data, action = case_state(base, session)
    for part in filter(None, mode.split("+")):
        for key, value in MODES[part].items():
            setattr(data, key, value)
    return state, data, action


# ---------------------------------------------------------------------------------------------- drawing
def grab(widget, mode: str = "RGB"):
    """The widget through an FBO, as a Pillow image (RGB, or RGBA to paste a popup's panel by its alpha), top-down
    (as the pilot's screenshots are: no flip)."""
    from PIL import Image

    texture = widget.export_as_image().texture
    image = Image.frombytes("RGBA", tuple(texture.size), bytes(texture.pixels))
    return image if mode == "RGBA" else image.convert(mode)


def save_shot(image, path: Path) -> None:
    """A capture as a raw array (`.npy`, H×W×3 RGB): the test compares it and keeps a PNG only of a failing one or a
    golden to write. Encoding 134 full-screen PNGs here and decoding them there was a quarter of the goldens' CPU."""
    import numpy as np

    np.save(path, np.asarray(image))


def swipe_body(screen) -> dict:
    """A finger on the first procedure tile of the body, moved 400 px up, lifted: a swipe of the frame's body."""
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.button import Button

    from screens.widgets import FrameScroll

    body = next(w for w in _walk(screen) if isinstance(w, FrameScroll))
    tile = next(w for w in _walk(body) if isinstance(w, Button) and "Khai sinh" in w.text)
    x, y = tile.to_window(*tile.center)
    before = body.scroll_y
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    frames(1)
    for step in range(1, 9):
        touch.touch_move(x, y + 50 * step)
        frames(1)
    touch.touch_up()
    return {"scrolls": body.do_scroll_y, "before": before, "after": body.scroll_y}


def frames(n: int = 3) -> None:
    for _ in range(n):
        EventLoop.idle()


def build_manager(app) -> ScreenManager:
    """A fresh set of screens for the window's current size (kv rules read `app.px` once, when a widget is made)."""
    from screens.app import SCREENS, make_screen

    app.scale = min(Window.size) / 1080.0
    app.portrait = Window.height > Window.width
    manager = ScreenManager(transition=NoTransition())
    for state in SCREENS:
        manager.add_widget(make_screen(state))  # its kv rules loaded first (the app loads them at first use)
    return manager


def _walk(widget):
    yield widget
    for child in widget.children:
        yield from _walk(child)


def _shown(widget) -> bool:
    w = widget
    while w is not None:
        if getattr(w, "opacity", 1) == 0 or w.width <= 0 or w.height <= 0:
            return False
        if w.parent is w:
            break
        w = w.parent
    return True


def _on_screen(widget, screen) -> bool:
    x, y = widget.to_window(*widget.pos)
    return x >= -1 and y >= -1 and x + widget.width <= Window.width + 1 and y + widget.height <= Window.height + 1


def _scrollview_of(widget):
    """The nearest ScrollView the widget is in, or None."""
    from kivy.uix.scrollview import ScrollView

    from screens.widgets import FrameScroll

    w = widget.parent
    while w is not None and w.parent is not w:
        if isinstance(w, ScrollView | FrameScroll):
            return w
        w = w.parent
    return None


def _in_scrollview(widget) -> bool:
    return _scrollview_of(widget) is not None


def facts(screen) -> dict:
    """What is drawn: each shown label's text and box, and the problems a reader would see."""
    labels, problems, boxes = [], [], []
    for w in _walk(screen):
        if not isinstance(w, Label) or not w.text.strip() or not _shown(w):
            continue
        w.texture_update()
        tw, th = w.texture_size
        x, y = w.to_window(*w.pos)
        labels.append({"text": w.text, "x": round(x), "y": round(y), "w": round(w.width), "h": round(w.height),
                       "font": round(w.font_size), "cls": type(w).__name__})
        where = f"{type(w).__name__} {w.text[:40]!r}"
        if w.shorten and tw > w.width + 1:
            problems.append(f"shortened: {where}")
        if th > w.height + 2:
            problems.append(f"clipped vertically ({th:.0f} > {w.height:.0f}): {where}")
        if tw > w.width + 2 and not (w.text_size[0] and w.text_size[0] <= w.width + 1):
            problems.append(f"overflows horizontally ({tw:.0f} > {w.width:.0f}): {where}")
        if not _on_screen(w, screen) and not _in_scrollview(w):  # a list scrolls; anything else must show
            problems.append(f"off screen: {where}")
        view = _scrollview_of(w)
        boxes.append((x, y, w.width, w.height, where, id(view) if view is not None else None))
    # a box pushed over another (a column too full); what scrolls is compared with what scrolls with it only
    for i, (x1, y1, w1, h1, what1, list1) in enumerate(boxes):
        for x2, y2, w2, h2, what2, list2 in boxes[i + 1:]:
            if list1 != list2:
                continue
            dx = min(x1 + w1, x2 + w2) - max(x1, x2)
            dy = min(y1 + h1, y2 + h2) - max(y1, y2)
            if dx > 4 and dy > 4:
                problems.append(f"overlaps: {what1} and {what2}")
    from screens.widgets import FrameScroll

    scrolls = any(isinstance(w, FrameScroll) and w.do_scroll_y for w in _walk(screen))
    return {"labels": labels, "problems": problems, "body_scrolls": scrolls}


def main() -> int:
    out = Path(sys.argv[1])
    wanted = sys.argv[2:] or CASES
    out.mkdir(parents=True, exist_ok=True)
    session = make_session()
    from screens import attract
    from screens.app import KioskApp

    attract.TIP_SECONDS = 1e9  # the screen saver's tips stay on the first one: a golden is one moment

    app = KioskApp(session)
    App._running_app = app
    EventLoop.ensure_window()
    app.build()  # the shared kv files and the first screen; build_manager makes the rest
    report: dict = {}
    only = os.environ.get("SCREEN_ORIENTATION")  # one of SIZES: the test runs the two in parallel processes
    for orientation, size in SIZES.items():
        if only and orientation != only:
            continue
        Window.size = size
        frames(2)
        if app.manager.parent is not None:
            Window.remove_widget(app.manager)
        app.manager = build_manager(app)
        Window.add_widget(app.manager)
        frames(2)
        for name in wanted:
            state, data, action = with_mode(name, session)
            session.state, session.data = state, data
            app._render()
            frames(3)
            screen = app.manager.current_screen
            if action is not None:
                action(screen)
                app._render()
                frames(3)
            screen = app.manager.current_screen
            focus_order: list[str] = []
            if "moved" in name.partition("@")[2]:  # one press of the keypad's down arrow
                from screens.focus import label_of

                focus_order = [label_of(w) for w in app.focus.controls()]
                focused = app.focus.move(1)
                app._render()
                frames(3)
            swipe: dict = {}
            if "swiped" in name.partition("@")[2]:
                swipe = swipe_body(screen)
                frames(3)
            frames(2)
            path = out / f"{name}-{orientation}.npy"
            popups = [w for w in Window.children if w is not app.manager]
            if popups:  # a popup over the screen: both through FBOs (the back buffer is unreliable offscreen)
                from PIL import Image

                shot = grab(app.manager)
                shot = Image.blend(shot, Image.new("RGB", shot.size, (0, 0, 0)), 0.6)  # the popup's dimming
                for popup in popups:
                    panel = popup.children[0]
                    part = grab(panel, "RGBA")
                    x, y = panel.to_window(*panel.pos)
                    shot.paste(part, (round(x), round(Window.height - y - panel.height)), part)
                save_shot(shot, path)
                seen = {"labels": [], "problems": [], "body_scrolls": False}
                for part in [screen, *popups]:
                    f = facts(part)
                    seen["labels"] += f["labels"] if part is not screen else []
                    seen["problems"] += f["problems"]
                    seen["body_scrolls"] |= f["body_scrolls"]
                for popup in popups:
                    popup.dismiss(animation=False)
                frames(2)
            else:
                save_shot(grab(app.manager), path)
                seen = facts(screen)
            header = next((w.ids.header for w in _walk(screen) if type(w).__name__ == "Frame"), None)
            report[f"{name}-{orientation}"] = {"state": state.value, "size": list(Window.size),
                                               "header": round(header.height) if header is not None else 0,
                                               "modes": {"large": app.session.data.large_text,
                                                         "contrast": app.session.data.high_contrast,
                                                         "lang": app.session.data.lang}, **seen}
            if swipe:
                report[f"{name}-{orientation}"]["swipe"] = {**swipe, "state_after": session.state.value}
            if focus_order:
                w = app.focus.focused
                x, y = w.to_window(w.x, w.y)
                report[f"{name}-{orientation}"]["focus"] = {
                    "order": focus_order, "focused": focused, "box": [round(x), round(y), round(w.width),
                                                                      round(w.height)]}
            app.focus.reset()
            screen.on_leave()
    report_file = out / (f"report-{only}.json" if only else "report.json")
    report_file.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
