"""Shared widgets: the screen frame (header, step, footer), big buttons, the error and busy panels, the
inactivity warning and the help popup. Their look is in widgets.kv."""
from __future__ import annotations

import re
import unicodedata

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.event import EventDispatcher
from kivy.graphics import Color, InstructionGroup, Rectangle, StencilPop, StencilPush, StencilUnUse, StencilUse
from kivy.properties import (BooleanProperty, ColorProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.togglebutton import ToggleButton
from kivy.uix.widget import Widget
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from kiosk.messages import UserMessage

from screens.palette import (INK, LARGE_TEXT_FACTOR, PALETTES, PANEL, PAPER, PRIMARY,  # noqa: F401 - re-exported
                             WARN_BG, WARN_INK)


class Theme(EventDispatcher):
    """What the kv files read for colours and text sizes: `theme.ink`, `app.px(40) * theme.k`, ... The session's
    accessibility choices (large text, high contrast, language) set it through `apply`; the wipe resets them."""

    k = NumericProperty(1.0)  # text size factor: 1 by default, LARGE_TEXT_FACTOR in large-text mode
    large = BooleanProperty(False)
    contrast = BooleanProperty(False)
    lang = StringProperty("vi")
    ink = ColorProperty(INK)
    primary = ColorProperty(PRIMARY)
    paper = ColorProperty(PAPER)
    panel = ColorProperty(PANEL)
    warn_bg = ColorProperty(WARN_BG)
    warn_ink = ColorProperty(WARN_INK)
    pressed = ColorProperty(PALETTES["default"]["pressed"])
    line = ColorProperty(PALETTES["default"]["line"])
    key_line = ColorProperty(PALETTES["default"]["key_line"])
    hint = ColorProperty(PALETTES["default"]["hint"])
    soft = ColorProperty(PALETTES["default"]["soft"])
    ok_bg = ColorProperty(PALETTES["default"]["ok_bg"])
    disabled_bg = ColorProperty(PALETTES["default"]["disabled_bg"])
    disabled_ink = ColorProperty(PALETTES["default"]["disabled_ink"])
    face_bg = ColorProperty(PALETTES["default"]["face_bg"])
    face_ink = ColorProperty(PALETTES["default"]["face_ink"])
    focus = ColorProperty(PALETTES["default"]["focus"])
    sel_bg = ColorProperty(PALETTES["default"]["sel_bg"])
    sel_ink = ColorProperty(PALETTES["default"]["sel_ink"])

    def apply(self, *, large: bool = False, contrast: bool = False, lang: str = "vi") -> bool:
        """Set the modes; True when anything changed."""
        lang = lang if lang in ("vi", "en") else "vi"
        changed = (large, contrast, lang) != (self.large, self.contrast, self.lang)
        self.large, self.contrast = large, contrast
        self.k = LARGE_TEXT_FACTOR if large else 1.0
        for role, value in PALETTES["high_contrast" if contrast else "default"].items():
            setattr(self, role, value)
        self.lang = lang
        return changed


theme = Theme()


# ---------------------------------------------------------------------------------------------- languages
def translate_label(label) -> None:
    """Show a label in the displayed language: its Vietnamese text (kv, Python or kiosk.messages) through the
    catalogue (kiosk.messages.i18n). Runs on every text change (the `<Label>` rule) and after each render; the
    Vietnamese stays on the label (`source_text`) so a switch back, and the simulated citizen, find it."""
    from kiosk.messages.i18n import tr

    text = label.text
    pair = getattr(label, "_i18n", None)
    if theme.lang == "vi":
        if pair is not None and text == pair[1]:
            label._i18n = None
            label.text = pair[0]
        return
    if pair is not None and text == pair[1]:
        return
    en = tr(text, theme.lang)
    label._i18n = (text, en) if en != text else None
    if en != text:
        label.text = en


_MARKUP = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")


def plain_text(text: str) -> str:
    """A label's words without Kivy markup, NFC (what a person reads; what the pilot and the keypad's focus say)."""
    return unicodedata.normalize("NFC", _MARKUP.sub("", text)).strip()


def source_text(widget) -> str:
    """The Vietnamese a label was made with (its text, unless shown translated)."""
    pair = getattr(widget, "_i18n", None)
    return pair[0] if (pair is not None and widget.text == pair[1]) else widget.text


def relabel(*roots) -> None:
    for root in roots:
        stack = [root]
        while stack:
            w = stack.pop()
            if isinstance(w, Label):
                translate_label(w)
            stack.extend(w.children)


class KioskScreen(Screen):
    """Base of every screen: error/busy/notice properties the frame shows, and `send` to the session."""

    error_title = StringProperty("")
    error_text = StringProperty("")
    error_next = StringProperty("")
    busy_text = StringProperty("")
    notice_text = StringProperty("")
    has_back = BooleanProperty(True)

    def send(self, event: str, **payload: Any) -> None:
        App.get_running_app().send(event, **payload)

    def render(self, session) -> None:
        """Copy what this screen shows from the session. Subclasses extend it; never decide flow here."""
        d = session.data
        self.show_error(d.error)
        self.busy_text = d.busy
        self.notice_text = d.notice

    def show_error(self, msg: UserMessage | None) -> None:
        self.error_title = msg.title if msg else ""
        self.error_text = msg.text if msg else ""
        self.error_next = msg.next_step if msg else ""


class BigButton(Button):
    """Primary action: bottom right, >= 64 px tall at 1080p. As wide as its words need, at least `min_width`;
    `collapsed` takes it out of the row (a hidden button must not push the others off the screen)."""

    primary = BooleanProperty(True)
    min_width = NumericProperty(0)
    collapsed = BooleanProperty(False)
    icon = StringProperty("")  # a path from icon(): drawn left of the words (never instead of them)
    focused = BooleanProperty(False)  # the keypad's focus: what its select key does now (a thick ring around it)


class ModeButton(Button):
    """A header switch (listen, large text, contrast, language): an icon beside the word, `on` while active (then
    filled and ticked: the state is never shown by colour alone). `event` is the session event it sends."""

    on = BooleanProperty(False)
    icon = StringProperty("")
    event = StringProperty("")

    def on_release(self) -> None:
        if self.event == "set_lang":
            App.get_running_app().send("set_lang", lang="vi" if theme.lang == "en" else "en")
        elif self.event:
            App.get_running_app().send(self.event)


class ChoiceButton(Button):
    """A list entry (procedure, rating, choice): full width, two lines allowed."""

    value = ObjectProperty(None, allownone=True)
    subtitle = StringProperty("")
    icon = StringProperty("")


class FieldChip(ToggleButton):
    """A choice among a few (a field of procedures, an answer to a form question)."""

    value = ObjectProperty(None, allownone=True)


class InfoRow(BoxLayout):
    """'Label: value' on one line, wrapping."""

    label = StringProperty("")
    value = StringProperty("")


class Drawer(BoxLayout):
    """Holds the on-screen keyboard: as tall as its content when open, nothing (and touch-transparent) when closed."""

    open = BooleanProperty(False)

    def add_widget(self, widget, *args, **kwargs):
        super().add_widget(widget, *args, **kwargs)
        widget.bind(height=self._fit)
        self.bind(open=self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        self.height = self.children[0].height if (self.open and self.children) else 0

    def on_touch_down(self, touch):
        return super().on_touch_down(touch) if self.open else False

    def on_touch_up(self, touch):
        return super().on_touch_up(touch) if self.open else False


class BodyLabel(Label):
    pass


class TitleLabel(Label):
    pass


class TimeoutWarning(ModalView):
    seconds = NumericProperty(0)

    def __init__(self, on_continue: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_continue = on_continue

    def keep_going(self) -> None:
        self._on_continue()
        self.dismiss()


class CancelConfirm(ModalView):
    """"Ông/Bà có chắc muốn hủy?" — Có, hủy / Không, tiếp tục (the safe answer is the big one)."""

    def __init__(self, on_confirm: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_confirm = on_confirm

    def confirm(self) -> None:
        self.dismiss()
        self._on_confirm()


class HelpPopup(ModalView):
    """"Trợ giúp": what to do on this screen (kiosk.messages.HELP) and "Gọi cán bộ", which tells the centre's
    staff (through the session's `call_staff`) which kiosk and which step; the answer shows here."""

    help_text = StringProperty("")
    staff_text = StringProperty("")
    can_call = BooleanProperty(True)

    def on_open(self) -> None:
        from kivy.clock import Clock

        self.refresh()
        self._poll = Clock.schedule_interval(lambda _dt: self.refresh(), 0.25)

    def on_dismiss(self) -> None:
        poll = getattr(self, "_poll", None)
        if poll is not None:
            poll.cancel()

    def refresh(self) -> None:
        from kiosk import messages

        session = getattr(App.get_running_app(), "session", None)
        if session is None:
            return
        self.help_text = messages.help_text(session.state.value)
        call = session.data.staff_call
        self.staff_text = {"sending": messages.STAFF_CALLING, "sent": messages.STAFF_CALLED,
                           "failed": messages.STAFF_CALL_FAILED}.get(call, "")
        self.can_call = call not in ("sending", "sent")

    def call_staff(self) -> None:
        App.get_running_app().send("call_staff")
        self.refresh()


class FramePart(BoxLayout):
    """Header, body, panels and footer of a Frame (what its own rule builds)."""


class FrameBody(FramePart):
    pass


class FrameScroll(Widget):
    """The frame's body, scrolled by a finger only when it does not fit (large text, longer English): the body
    moves under a clip, a wide bar at the right shows how much there is. Not a Kivy ScrollView: a ScrollView
    holds every tap for a moment to tell it from a swipe, and screens with their own list (procedures, papers)
    would nest two. When the body fits, this passes every touch straight on and draws nothing of its own, not
    even the clip: a stencil clip fills its area twice in every frame (on a kiosk without a GPU, llvmpipe's
    rasteriser spent a third of its time on this one and the screen manager's).
    `scroll_y` is 1 at the top, 0 at the bottom, as in ScrollView."""

    scroll_y = NumericProperty(1.0)
    do_scroll_y = BooleanProperty(False)
    bar_width = NumericProperty(0)
    bar_color = ColorProperty((0, 0, 0, 1))
    _DRAG_PX = 24  # a finger must move this far (at 1080 px) before it scrolls rather than taps

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("size", self._place)
        self.fbind("pos", self._place)
        self.fbind("scroll_y", self._place)
        self._clip_on = InstructionGroup()  # StencilPush .. StencilUse while the body scrolls, else empty
        self._clip_off = InstructionGroup()  # StencilUnUse .. StencilPop
        self.canvas.before.insert(0, self._clip_on)
        self.canvas.after.insert(0, self._clip_off)

    def _clip(self, on: bool) -> None:
        self._clip_on.clear()
        self._clip_off.clear()
        if on:
            self._clip_on.add(StencilPush())
            self._clip_on.add(Rectangle(pos=self.pos, size=self.size))
            self._clip_on.add(StencilUse())
            self._clip_off.add(StencilUnUse())
            self._clip_off.add(Rectangle(pos=self.pos, size=self.size))
            self._clip_off.add(StencilPop())

    def add_widget(self, widget, *args, **kwargs):
        super().add_widget(widget, *args, **kwargs)
        widget.fbind("height", self._place)
        self._place()

    @property
    def overflow(self) -> float:
        return max(0.0, self.children[0].height - self.height) if self.children else 0.0

    def _place(self, *_args) -> None:
        if not self.children:
            return
        body, overflow = self.children[0], self.overflow
        self.do_scroll_y = overflow > 1
        if not self.do_scroll_y:
            self.scroll_y = 1.0
        body.x, body.width = self.x, self.width
        body.y = self.y - overflow * self.scroll_y
        self._clip(self.do_scroll_y)
        if getattr(self, "_bar", None) is None:
            self._bar = InstructionGroup()
            self.canvas.after.add(self._bar)  # after the stencil's own pop: the bar is not clipped
        self._bar.clear()
        if self.do_scroll_y and self.bar_width:
            shown = self.height / body.height
            bar_h = max(self.bar_width * 3, self.height * shown)
            bar_y = self.y + (self.height - bar_h) * (1 - self.scroll_y)
            r, g, b, _a = self.bar_color
            self._bar.add(Color(r, g, b, 0.25))  # the track: there is more than is shown
            self._bar.add(Rectangle(pos=(self.right - self.bar_width, self.y), size=(self.bar_width, self.height)))
            self._bar.add(Color(*self.bar_color))
            self._bar.add(Rectangle(pos=(self.right - self.bar_width, bar_y), size=(self.bar_width, bar_h)))

    def scroll_to_widget(self, widget) -> None:
        """Bring `widget` (in the body) into sight, as a finger would."""
        if not self.do_scroll_y:
            return
        _x, wy = widget.to_window(widget.x, widget.y)
        _x, sy = self.to_window(self.x, self.y)
        if wy < sy:
            self.scroll_y = max(0.0, self.scroll_y - (sy - wy + 20) / self.overflow)
        elif wy + widget.height > sy + self.height:
            self.scroll_y = min(1.0, self.scroll_y + (wy + widget.height - sy - self.height + 20) / self.overflow)

    def on_touch_down(self, touch):
        if self.do_scroll_y and self.collide_point(*touch.pos):
            touch.ud[self._key()] = (touch.y, self.scroll_y, False)
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        start = touch.ud.get(self._key())
        if start is not None and self.do_scroll_y:
            y0, scroll0, dragging = start
            scale = App.get_running_app().scale if App.get_running_app() else 1.0
            if dragging or abs(touch.y - y0) > self._DRAG_PX * scale:
                if not dragging:  # a swipe, not a tap: what the finger pressed is let go without acting
                    for ref in list(touch.grab_list):
                        w = ref()
                        if w is not None and w is not self and hasattr(w, "_do_release"):
                            touch.ungrab(w)
                            w._do_release()
                    touch.ud[self._key()] = (y0, scroll0, True)
                self.scroll_y = min(1.0, max(0.0, scroll0 - (touch.y - y0) / self.overflow))
                return True
        return super().on_touch_move(touch)

    def _key(self) -> str:
        return f"frame-scroll-{id(self)}"


def hold_minimums(frame_body: Widget) -> None:
    """Every stretching box in a frame's body keeps at least the height its fixed-size content needs
    (`size_hint_min_y` follows `minimum_height`), so a body too full for the screen says so up to the FrameBody,
    whose FrameScroll then scrolls, instead of a column drawing its words over the title. Boxes in a ScrollView
    of their own, and boxes that set `keeps_own_min` (and their own minimum, in kv), are left alone. Cheap to
    call again: each box is bound once (KioskApp._render calls it, as the login panels change)."""
    stack = list(frame_body.children)
    while stack:
        w = stack.pop()
        if isinstance(w, ScrollView):
            continue
        if isinstance(w, BoxLayout) and w.size_hint_y is not None and not getattr(w, "keeps_own_min", False) \
                and not getattr(w, "_holds_min", False):
            w._holds_min = True
            w.bind(minimum_height=w.setter("size_hint_min_y"))
            w.size_hint_min_y = w.minimum_height
        stack.extend(w.children)


class Frame(BoxLayout):
    """Header + body + footer. Screens fill `body`; the footer's buttons call `on_back` / `on_primary`."""

    back_text = StringProperty("Quay lại")
    primary_text = StringProperty("Tiếp tục")
    show_back = BooleanProperty(True)
    show_primary = BooleanProperty(True)
    show_cancel = BooleanProperty(True)
    primary_disabled = BooleanProperty(False)
    primary_icon = StringProperty("")
    second_text = StringProperty("")  # a second answer beside the main one (consent: "Không đồng ý"); none if ""
    screen = ObjectProperty(None, allownone=True)
    error_title = StringProperty("")
    error_text = StringProperty("")
    error_next = StringProperty("")
    busy_text = StringProperty("")
    __events__ = ("on_primary", "on_back", "on_cancel", "on_second")
    _MIRRORED = ("error_title", "error_text", "error_next", "busy_text")

    def on_screen(self, _frame, screen) -> None:
        """Mirror the screen's message and busy state (kv does not follow `screen.x` chains reliably)."""
        if screen is None:
            return
        screen.bind(**{name: self.setter(name) for name in self._MIRRORED})
        for name in self._MIRRORED:
            setattr(self, name, getattr(screen, name))

    def add_widget(self, widget, *args, **kwargs):
        """The frame's own parts go into the frame; anything else is the screen's content: into the body."""
        if isinstance(widget, FramePart | FrameScroll):
            return super().add_widget(widget, *args, **kwargs)
        return self.ids.body.add_widget(widget, *args, **kwargs)

    def on_primary(self) -> None:
        pass

    def on_second(self) -> None:
        pass

    def on_back(self) -> None:
        if self.screen is not None:
            self.screen.send("back")

    def on_cancel(self) -> None:
        """'Hủy' asks first: one stray tap must never wipe what an elderly citizen spent minutes entering."""
        if self.screen is not None:
            screen = self.screen
            CancelConfirm(on_confirm=lambda: screen.send("cancel")).open()


class BusySpinner(Label):
    """A turning arc: something is happening (never the only sign: a text says what)."""

    angle = NumericProperty(0)

    def on_parent(self, *_args) -> None:
        from kivy.animation import Animation

        Animation.cancel_all(self)
        if self.parent is not None:
            anim = Animation(angle=360, duration=1.2)
            anim.bind(on_complete=lambda *_a: setattr(self, "angle", 0))
            anim.repeat = True
            anim.start(self)


def escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def choice_text(title: str, subtitle: str = "") -> str:
    """Markup for a two-line choice: the official name in bold, a plain explanation smaller under it."""
    out = f"[b]{escape_markup(title)}[/b]"
    if subtitle:
        out += f"\n[size={int(App.get_running_app().px(40) * theme.k)}]{escape_markup(subtitle)}[/size]"
    return out


ICON_DIR = "assets/icons"  # shipped files (kiosk.resources), drawn by assets/icons/make_icons.py
#: The catalogue's `field` picks a procedure's icon; any other field gets a plain paper.
FIELD_ICONS = {"hộ tịch": "ho_tich", "chứng thực": "chung_thuc", "cư trú": "cu_tru"}


def icon(name: str) -> str:
    """The path of assets/icons/<name>.png, or "" when it is missing (the words still say everything)."""
    from kiosk import resources

    name = f"{ICON_DIR}/{name}.png"
    return str(resources.resource_path(name)) if resources.exists(name) else ""


def light_icon(path: str) -> str | None:
    """The light version (assets/icons/light/, for dark backgrounds in high contrast) of an icon path, if drawn."""
    from pathlib import Path

    if not path:
        return None
    light = Path(path).parent / "light" / Path(path).name
    return str(light) if light.exists() else path


def icon_for(procedure) -> str:
    return icon(FIELD_ICONS.get(str(getattr(procedure, "field", "")).strip().lower(), "giay_to"))


TO_BE_ANNOUNCED = "Cán bộ sẽ thông báo"


def fee_text(data) -> str:
    return data.fee_text or TO_BE_ANNOUNCED


def appointment_text(data) -> str:
    return data.appointment_date.strftime("%d/%m/%Y") if data.appointment_date else TO_BE_ANNOUNCED


def open_help() -> HelpPopup:
    popup = HelpPopup()
    popup.refresh()  # the words are there from the first frame, not after the opening animation
    popup.open()
    return popup
