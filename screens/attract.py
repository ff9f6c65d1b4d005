"""Attract: the idle screen. Start a dossier, tap a popular procedure, look up a dossier, or take a number.

While nobody is there it is the kiosk's screen saver too (the OS never blanks a kiosk): a line of tips changes
every few seconds and the content drifts by a few pixels, so nothing stays lit in one place for hours."""
from __future__ import annotations

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty

from screens.widgets import ChoiceButton, KioskScreen, choice_text, icon_for

TIPS = [
    "Chạm vào màn hình để bắt đầu. Ông/Bà cần mang điện thoại có ứng dụng VNeID và giấy tờ bản giấy.",
    "Có thể nộp hồ sơ khai sinh, kết hôn, chứng thực, cư trú… ngay tại máy này.",
    "Đã nộp hồ sơ? Đưa mã QR trên biên nhận vào camera để xem tình trạng.",
    "Cần làm thủ tục tại quầy? Bấm “Lấy số thứ tự”.",
]
TIP_SECONDS = 6.0
DRIFT = (0, 6, 12, 6)  # pixels, one step per tip: the layout shifts a little, never enough to read as movement


class AttractScreen(KioskScreen):
    tip = StringProperty(TIPS[0])
    drift = NumericProperty(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._tip_index = 0
        self._event = None

    def on_enter(self, *_args) -> None:
        self._event = Clock.schedule_interval(self._next_tip, TIP_SECONDS)

    def on_leave(self, *_args) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._tip_index = 0
        self.tip, self.drift = TIPS[0], 0

    def _next_tip(self, _dt) -> None:
        self._tip_index = (self._tip_index + 1) % len(TIPS)
        self.tip = TIPS[self._tip_index]
        label = self.ids.get("tip_label")
        if label is not None:
            label.opacity = 0
            Animation(opacity=1, duration=0.6).start(label)
        self.drift = DRIFT[self._tip_index % len(DRIFT)]
    def render(self, session) -> None:
        super().render(session)
        box = self.ids.popular
        catalog = session.services.catalog
        from kivy.app import App

        from screens.widgets import theme

        # large text: one row of three tiles in landscape, four in portrait (six do not fit under the 90 px title)
        count = (4 if App.get_running_app().portrait else 3) if theme.large else 6
        if getattr(self, "_catalog", None) is catalog and getattr(self, "_count", None) == count:
            return
        self._catalog, self._count = catalog, count  # rebuilt when a newer catalogue arrives from the portal
        box.clear_widgets()
        for proc in catalog.popular(count):
            btn = ChoiceButton(text=choice_text(proc.plain_name or proc.name), value=proc.code, icon=icon_for(proc))
            btn.bind(on_release=lambda b: self.send("choose", code=b.value))
            box.add_widget(btn)
