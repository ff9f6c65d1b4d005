"""The on-screen keyboard: letters as typed with visible tone and mark keys, Telex on request, and a numeric pad
for numbers and dates.

Every field opens with plain letters: a letter types itself (names such as "Ksor", "Alex", "H'Hen Niê" keep what
was typed), then a mark key ("â ê ô", "ă ơ ư", "đ") or a tone key ("á à ả ã ạ") marks the word being typed.
Citizens who know Telex can turn it on ("Bật gõ Telex"). Both go through the same composer (kiosk.domain.telex),
which puts the tone on the right vowel and outputs NFC. Only the word being typed is composed; what is
already in the field (a prefill, earlier words) is kept as it is.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kivy.factory import Factory
from kivy.properties import NumericProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.domain.text import nfc

if TYPE_CHECKING:
    from kiosk.domain.telex import Composer

TONE_KEYS = {"á": "tone1", "à": "tone2", "ả": "tone3", "ã": "tone4", "ạ": "tone5"}
METHOD_LABEL = {"plain": "Bật gõ Telex", "telex": "Tắt gõ Telex", "vni": "Tắt gõ VNI"}

#: mode -> rows of (label, key, width). Labels are what the citizen sees; keys what `press` receives.
_Key = tuple[str, str, float]
_LETTERS: list[list[_Key]] = [[(c.upper(), c, 1) for c in row] for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")]
_TONES: list[_Key] = [(t, t, 1) for t in TONE_KEYS] + [("â ê ô", "hat", 1.3), ("ă ơ ư", "horn", 1.3), ("đ", "dd", 1)]
_DIGITS: list[_Key] = [(c, c, 1) for c in "1234567890"]
LAYOUTS: dict[str, list[list[_Key]]] = {
    "text": [_TONES, _DIGITS, *_LETTERS,
             [("Xóa hết", "clear", 1.5), ("Bật gõ Telex", "method", 2.2), ("'", "'", 0.7), ("-", "-", 0.7),
              ("Dấu cách", "space", 2.6), ("Xóa lùi", "backspace", 1.5)]],
    "code": [_DIGITS, *_LETTERS,
             [("Xóa hết", "clear", 1.4), ("-", "-", 1), (".", ".", 1), ("Xóa lùi", "backspace", 1.4)]],
    "number": [[(c, c, 1) for c in "123"], [(c, c, 1) for c in "456"], [(c, c, 1) for c in "789"],
               [("Xóa hết", "clear", 1), ("0", "0", 1), ("Xóa lùi", "backspace", 1)]],
    "date": [[(c, c, 1) for c in "123"], [(c, c, 1) for c in "456"], [(c, c, 1) for c in "789"],
             [("/", "/", 1), ("0", "0", 1), ("Xóa lùi", "backspace", 1)]],
}


class VietKeyboard(BoxLayout):
    mode = OptionProperty("text", options=list(LAYOUTS))
    method = OptionProperty("plain", options=["plain", "telex", "vni"])  # how letters and digits compose
    text = StringProperty("")
    capitalize = OptionProperty("none", options=["none", "first", "words"])  # names: every word; text: the first
    row_height = NumericProperty(0)  # 0: the default for the orientation (keyboard.kv)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_change: Callable[[str], None] | None = None
        self._prefix = ""
        self._composer: Composer | None = None
        self._built = ""
        self._rows: dict[str, list[Widget]] = {}
        self._build_rows()

    def on_mode(self, *_args) -> None:
        self._build_rows()

    def on_method(self, *_args) -> None:
        button = getattr(self, "_method_button", None)
        if button is not None:
            button.text = METHOD_LABEL[self.method]

    def _build_rows(self) -> None:
        """Show the rows of the current mode, made the first time the mode is shown and kept: a form moves between
        text, date and number fields, and making ~45 keys again for each field was most of the time a tap on the
        next field took."""
        if self._built == self.mode:
            return
        self._built = self.mode
        self.clear_widgets()
        rows = self._rows.get(self.mode)
        if rows is None:
            rows = self._rows[self.mode] = [self._make_row(row) for row in LAYOUTS[self.mode]]
        for box in rows:
            self.add_widget(box)

    def _make_row(self, row: list[_Key]) -> Widget:
        box = Factory.KeyRow()
        for label, key, width in row:
            btn = Factory.Key(text=label, size_hint_x=width)  # word keys get 0.8 of the letters' size (Key)
            btn.bind(on_release=lambda _b, k=key: self.press(k))
            box.add_widget(btn)
            if key == "method":
                self._method_button = btn
                self.on_method()
        return box

    # ------------------------------------------------------------------------------------------ attach
    def attach(self, text: str, on_change: Callable[[str], None], mode: str = "text",
               capitalize: str = "none") -> None:
        """Type into a field whose current text is `text`; every change is reported through `on_change`."""
        from kiosk.domain.telex import Composer

        self.mode = mode
        self.capitalize = capitalize
        if capitalize == "words":
            self.method = "plain"  # a name keeps what was typed, whatever the last field used
        self._prefix = text
        self._composer = Composer(method=self.method)
        self._on_change = on_change
        self.text = text

    def detach(self) -> None:
        self._on_change = None

    # ------------------------------------------------------------------------------------------ keys
    @property
    def _word(self) -> str:
        return self._composer.text if self._composer is not None else ""

    def press(self, key: str) -> None:
        if self._on_change is None or self._composer is None:
            return
        if key == "space":
            self._commit(" ")
        elif key == "backspace":
            if self._word:
                self._composer.backspace()
            else:
                self._prefix = self._prefix[:-1]
        elif key == "clear":
            self._prefix = ""
            self._composer.clear()
        elif key == "method":
            # Plain letters by default; Telex types marks with letters (aa = â, as = á) for those used to it.
            from kiosk.domain.telex import Composer

            self._commit("")
            self.method = "plain" if self.method != "plain" else "telex"
            self._composer = Composer(method=self.method)
        elif key in TONE_KEYS:
            self._composer.mark(TONE_KEYS[key])
        elif key == "hat":
            self._composer.mark("hat")
        elif key == "horn":
            self._composer.mark("horn")
        elif key == "dd":
            if "d" in self._word.lower():
                self._composer.mark("stroke")
            else:  # đ on its own starts a word
                self._composer.press("D" if self._upper_now() else "d")
                self._composer.mark("stroke")
        elif key.isdigit() and self.mode == "text" and self.method == "vni" and self._word:
            self._composer.press(key)
        elif self.mode in ("number", "date") or not key.isalpha():
            self._commit(key)
        elif self.mode == "code":
            self._commit(key.upper())
        else:
            self._composer.press(key.upper() if self._upper_now() else key)
        self._emit()

    def _upper_now(self) -> bool:
        """Names take a capital at each word, also after an apostrophe or hyphen (H'Hen, Y-Moan); text at its start."""
        starts_text = not self._word and not self._prefix.strip()
        starts_word = not self._word and (not self._prefix or self._prefix[-1] in " '-")
        return (self.capitalize == "words" and starts_word) or (self.capitalize == "first" and starts_text)

    def _commit(self, suffix: str) -> None:
        self._prefix = self._prefix + self._word + suffix
        if self._composer is not None:
            self._composer.clear()

    def _emit(self) -> None:
        self.text = nfc(self._prefix + self._word)
        if self._on_change is not None:
            self._on_change(self.text)
