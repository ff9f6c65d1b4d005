"""Issue 12: a whole session driven only by the tactile keypad, with spoken guidance.

The session runs against the real sandbox portal with fake devices (tests/session_fixtures.py); a FakeKeypad's
actions go through the KeypadController (posted onto the test's thread, as the Appliance posts them onto the UI
thread) and a FakeSpeechOutput records every utterance. The citizen only holds the VNeID login QR up to the
camera and puts papers in the scanner; everything else is keys.
"""
from __future__ import annotations

import datetime as dt
import wave

import numpy as np
import pytest

from drivers.fakes.keypad import FakeKeypad
from drivers.fakes.speech import FakeSpeechOutput
from drivers.keypad import KeypadAction as A
from drivers.speech import DEFAULT_VOLUME, PRIVACY_NOTICE, estimate_duration
from kiosk.appliance.guide import Guide
from kiosk.appliance.keypad_control import KeypadController
from kiosk.domain.multitap import MultiTap, type_keys
from kiosk.domain.speech_text import digits_words, spoken
from kiosk.session.machine import State
from session_fixtures import (  # noqa: F401  (fixtures)
    BIRTH, CITIZEN_ID_NUMBER, birth_form_values, CITIZEN_NAME, LOGIN_LEVEL2, Kiosk, kiosk, portal, sandbox_server,
    shared_outbox,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SPINE = [State.ATTRACT, State.PROCEDURE, State.PROCEDURE_INFO, State.CONSENT, State.LOGIN, State.FORM,
         State.DOCUMENTS, State.REVIEW, State.OTP, State.SUBMITTING, State.DONE, State.RATING]


class KeypadWalk:
    """A kiosk with speech, a keypad and the controller; `press` injects keys and runs what they start."""

    def __init__(self, k: Kiosk, speech) -> None:
        self.k, self.speech = k, speech
        self.keypad = FakeKeypad()
        self.keypad.start()
        self.posted: list = []
        self.guide = Guide(k.session, speech)
        self.controller = KeypadController(k.session, self.guide, speech)
        self.controller.attach(self.keypad, self.posted.append)
        self.visited: list[State] = [k.state]
        k.session.subscribe(lambda s: self.visited.append(s.state) if s.state is not self.visited[-1] else None)

    def press(self, *keys, settle: bool = True) -> None:
        self.keypad.press(*keys).join(5)
        while self.posted:
            self.posted.pop(0)()
        if settle:
            self.k.settle()
        assert self.speech.wait_idle(10)


def walk(k: Kiosk, speech) -> KeypadWalk:
    """attract → done → attract again, keys only (and the login QR, and papers in the scanner)."""
    w = KeypadWalk(k, speech)
    w.press(A.SELECT)  # the first press: speech and keypad mode on, the screen is read out
    assert k.data.speech_mode and k.data.keypad_mode and k.state is State.ATTRACT
    w.press(A.VOLUME_UP, A.VOLUME_UP)
    assert speech.volume == DEFAULT_VOLUME + 20
    w.press(A.SELECT)
    assert k.state is State.PROCEDURE
    if BIRTH not in w.guide.procedure_choices:  # the birth registration is among the most used: it is read out
        pytest.fail(f"birth registration not read out: {w.guide.procedure_choices}")
    w.press(str(w.guide.procedure_choices.index(BIRTH) + 1))
    assert k.state is State.PROCEDURE_INFO
    w.press(A.NEXT)
    assert k.state is State.CONSENT
    w.press(A.SELECT)
    assert k.state is State.LOGIN
    k.present(LOGIN_LEVEL2)
    assert k.state is State.FORM, k.data.error
    born = (dt.date.today() - dt.timedelta(days=10)).strftime("%d%m%Y")
    answers = [type_keys("lee minh khooi") + "#", born + "#", "1",
               type_keys("tram y tee") + "*" + type_keys(" xa") + "#",
               type_keys("lee thi hoong nhung") + "#", "#", "#",
               "1"]  # the result at the centre (the birth registration offers the post too)
    for keys in answers:
        w.press(*keys)
    assert k.state is State.DOCUMENTS, (k.data.form_errors, k.data.form_values)
    assert k.data.form_values["child_full_name"] == "Lê Minh Khôi"
    assert k.data.form_values["birth_place"] == "tram y tế xa"
    for _ in k.data.components:
        w.press(A.SELECT)  # scan
        w.press(A.SELECT)  # next
    assert k.state is State.REVIEW, k.data.error
    w.press(A.SELECT)
    assert k.state is State.OTP and k.data.otp is not None, k.data.error
    w.code = k.the_code()
    w.otp_from = len(speech.utterances)
    w.press(*w.code)  # complete: submitted by itself, then the dossier goes and the receipt prints
    assert k.state is State.DONE and k.data.receipt_printed, k.data.error
    w.done_lines = [line.text for st, lines in w.guide.announcements if st is State.DONE for line in lines]
    w.press(A.SELECT)
    assert k.state is State.RATING
    w.press(A.SELECT)  # skip: the session is wiped
    assert k.state is State.ATTRACT
    return w


def _texts(speech: FakeSpeechOutput) -> list[str]:
    return [u.text for u in speech.utterances if u.tone is None]


def test_a_whole_session_keypad_only_is_guided_by_speech(kiosk: Kiosk) -> None:
    speech = FakeSpeechOutput(headphones=False, time_scale=0.001)
    try:
        w = walk(kiosk, speech)
        # every state of the spine was reached and announced, from its title
        assert [s for s in SPINE if s in w.visited] == SPINE
        announced = {st for st, _ in w.guide.announcements}
        assert set(SPINE) <= announced, set(SPINE) - announced
        for _state, lines in w.guide.announcements:
            assert lines and spoken(lines[0].text) in _texts(speech)
        # personal data never reached the loudspeaker: the privacy notice instead
        said = " ".join(speech.said)
        for secret in (CITIZEN_NAME, CITIZEN_ID_NUMBER, "Lê Minh Khôi", "Lê Thị Hồng Nhung"):
            assert secret not in said
        private = [r for r in speech.records if r.private]
        assert private and all(r.outcome in ("withheld", "interrupted") for r in private)
        assert PRIVACY_NOTICE in speech.said
        # the one-time code gave tones, never its digits
        assert all(w.code not in t and digits_words(w.code) not in t for t in _texts(speech))
        typed = speech.utterances[w.otp_from:w.otp_from + len(w.code)]
        assert [u.tone and u.tone.value for u in typed] == ["digit"] * len(w.code)
        # the receipt was read: the dossier code spelled, the appointment date, the queue number
        assert any(t.startswith("Mã hồ sơ:") for t in w.done_lines)
        assert any("Ngày hẹn trả kết quả" in t for t in w.done_lines)
        assert any("Số thứ tự của bạn" in t for t in w.done_lines)
        # the look-up secret opens the dossier's status: announced as private, so withheld without headphones
        secret = [line for st, lines in w.guide.announcements if st is State.DONE for line in lines
                  if line.text.startswith("Mã tra cứu:")]
        assert secret and all(line.private for line in secret)
        assert not any(t.startswith(spoken(secret[0].text)[:12]) for t in speech.said)
        # the session ended: speech reset for the next citizen, modes wiped
        assert speech.volume == DEFAULT_VOLUME
        assert speech.repeat() is None
        assert not kiosk.data.speech_mode and not kiosk.data.keypad_mode
    finally:
        speech.close()


class ControlsOnScreen:
    """What the UI's focus navigator (screens.focus.FocusNavigator) offers the controller: controls in reading
    order; a press of the focused one runs its action. Moving wraps round; a new screen forgets the focus."""

    def __init__(self, controls: list[tuple[str, object]]) -> None:
        self.controls, self.index, self.pressed = controls, None, []

    def move(self, step: int) -> str:
        self.index = (step - 1 if self.index is None and step > 0 else (self.index or 0) + step) % len(self.controls)
        return self.controls[self.index][0]

    def press(self) -> bool:
        if self.index is None:
            return False
        words, action = self.controls[self.index]
        self.pressed.append(words)
        action()
        return True

    def reset(self) -> None:
        self.index = None


def test_the_arrows_move_the_focus_speak_each_control_and_select_presses_it(kiosk: Kiosk) -> None:
    """Issue 12 §2: on a screen with a focus to move, the arrow keys move it and speak the focused control's words
    (in the displayed language); select presses that control instead of the main action; a new screen starts
    again from the main action."""
    speech = FakeSpeechOutput(time_scale=0.001)
    try:
        w = KeypadWalk(kiosk, speech)
        s = kiosk.session
        focus = ControlsOnScreen([("Nghe", lambda: None), ("Chữ to", lambda: s.send("large_text_toggle")),
                                  ("Bắt đầu nộp hồ sơ", lambda: s.send("start"))])
        w.controller.focus = focus
        w.press(A.SELECT)  # the first press: speech and keypad mode on
        w.press(A.NEXT)
        w.press(A.NEXT)
        assert _texts(speech)[-1] == spoken("Chữ to") and kiosk.state is State.ATTRACT
        w.press(A.SELECT)  # presses "Chữ to", not the attract screen's start
        assert focus.pressed == ["Chữ to"] and kiosk.data.large_text and kiosk.state is State.ATTRACT
        w.press(A.PREVIOUS)
        assert _texts(speech)[-1] == spoken("Nghe")
        w.press(A.PREVIOUS)  # wraps round to the last control
        w.press(A.SELECT)
        assert kiosk.state is State.PROCEDURE and focus.pressed[-1] == "Bắt đầu nộp hồ sơ"
        w.press(A.SELECT)  # a new screen: the focus was forgotten, select is the main action again
        assert focus.index is None and focus.pressed == ["Chữ to", "Bắt đầu nộp hồ sơ"]
    finally:
        speech.close()


def test_the_header_toggles_say_their_new_state(kiosk: Kiosk) -> None:
    """EN 301 549 5.6.1: someone who cannot see the check mark hears that large text / contrast went on or off,
    in the displayed language."""
    speech = FakeSpeechOutput(time_scale=0.001)
    try:
        w = KeypadWalk(kiosk, speech)
        w.press(A.SELECT)  # speech on
        kiosk.send("large_text_toggle")
        assert speech.wait_idle(10)
        assert _texts(speech)[-1] == spoken("Chữ to: bật.")
        kiosk.send("set_lang", lang="en")
        kiosk.send("contrast_toggle")
        kiosk.send("large_text_toggle")
        assert speech.wait_idle(10)
        assert {"Contrast: on.", "Large text: off."} <= set(_texts(speech)[-3:]), _texts(speech)[-4:]
    finally:
        speech.close()


def test_the_postage_is_read_on_review_and_done_when_the_result_goes_by_post(kiosk: Kiosk) -> None:
    from kiosk.domain import forms
    from kiosk.session.machine import SessionData

    speech = FakeSpeechOutput(time_scale=0.001)
    try:
        guide = Guide(kiosk.session, speech)
        postage = forms.postage_text(25_000)
        d = SessionData(procedure=kiosk.session.services.catalog.get(BIRTH), postage_text=postage, fee_text="Miễn")
        for script in (guide._review, guide._done):
            lines = [line for line in script(kiosk.session, d) if postage in line.text]
            assert lines and not lines[0].private, script.__name__
        assert "hai mươi lăm nghìn đồng" in spoken(f"Phí gửi: {postage}.")  # said as money, not digits
        d.postage_text = ""  # collected at the centre: no postage line
        assert not [line for line in guide._review(kiosk.session, d) if "bưu điện" in line.text]
    finally:
        speech.close()


def test_private_data_is_spoken_with_headphones(kiosk: Kiosk) -> None:
    speech = FakeSpeechOutput(headphones=True, time_scale=0.001)
    try:
        w = KeypadWalk(kiosk, speech)
        w.press(A.SELECT, A.SELECT)
        w.press(str(w.guide.procedure_choices.index(BIRTH) + 1), A.SELECT, A.SELECT)
        kiosk.present(LOGIN_LEVEL2)
        assert speech.wait_idle(10)
        assert kiosk.state is State.FORM
        for field, value in birth_form_values().items():
            kiosk.send("set", field=field, value=value)
        for _ in range(6):  # to the last question: the declarant, prefilled from the login
            kiosk.send("next_question")
        assert kiosk.data.form_index == 6
        w.press(A.REPEAT)
        assert any(CITIZEN_NAME in t for t in speech.said)
        assert PRIVACY_NOTICE not in speech.said
    finally:
        speech.close()


def test_assisted_citizens_get_longer_timeouts_and_more_time(kiosk: Kiosk) -> None:
    kiosk.send("start")
    base, warning = kiosk.session.timeouts()
    assert warning >= 20
    kiosk.send("speech_toggle", on=True, keypad=True)
    longer, warning = kiosk.session.timeouts()
    assert longer == 2 * base and warning >= 20
    kiosk.clock.advance(longer - 10)
    kiosk.session.tick()
    assert kiosk.session.warning_remaining is not None
    kiosk.send("more_time")
    assert kiosk.session.warning_remaining is None
    kiosk.clock.advance(longer - 1)
    kiosk.session.tick()
    assert kiosk.state is State.PROCEDURE
    for event in ("large_text_toggle", "contrast_toggle"):
        kiosk.send(event)
    kiosk.send("set_lang", lang="en")
    d = kiosk.data
    assert d.large_text and d.high_contrast and d.lang == "en"
    kiosk.send("cancel")
    d = kiosk.data
    assert (d.speech_mode, d.keypad_mode, d.large_text, d.high_contrast, d.lang) == (False, False, False, False, "vi")


def test_espeak_writes_one_audible_wav_per_state(kiosk: Kiosk, tmp_path) -> None:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from drivers.espeak_speech import EspeakSpeech

    fake = FakeSpeechOutput(time_scale=0.0)
    try:
        w = walk(kiosk, fake)
    finally:
        fake.close()
    firsts: dict[State, str] = {}
    for st, lines in w.guide.announcements:
        firsts.setdefault(st, spoken(" ".join(line.text for line in lines[:2] if not line.private)))
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False, headphones="never")
    try:
        for st, text in firsts.items():
            u = speech.say(text)
            assert u.wait(30) and u.state.value == "spoken", (st, u.state, u.error)
            path = speech.files[-1]
            with wave.open(str(path)) as f:
                frames = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16)
                seconds = f.getnframes() / f.getframerate()
            rms = float(np.sqrt(np.mean(frames.astype(np.float64) ** 2)))
            expected = estimate_duration(text, "vi", speech.rate_wpm)
            assert rms > 300, (st, rms)
            assert 0.3 < seconds < 60 and expected / 3 < seconds < expected * 3, (st, seconds, expected)
        assert len(speech.files) == len(firsts) >= len(SPINE)
    finally:
        speech.close()


@pytest.mark.parametrize("keys, capitalize, text", [
    ("2", False, "a"),
    ("22", False, "b"),
    ("2222", False, "a"),             # cycles round
    ("212", False, "â"),              # 1 keeps a letter: "aa" is Telex for â
    ("23", False, "ad"),
    ("7777", False, "s"),
    ("99990", False, "z"),            # trailing space dropped by finish()
    ("20", False, "a"),
    ("2022", False, "a b"),
    (type_keys("lee"), True, "Lê"),
    (type_keys("lee minh khooi"), True, "Lê Minh Khôi"),
    (type_keys("ddoong"), False, "đông"),
    (type_keys("tee") + "*", False, "tế"),
    (type_keys("tee") + "**", False, "tề"),
    (type_keys("tee") + "***", False, "tể"),
    (type_keys("tee") + "****", False, "tễ"),
    (type_keys("tee") + "*****", False, "tệ"),
    (type_keys("tee") + "******", False, "tê"),  # back to no tone
    (type_keys("nguoiw") + "**", False, "người"),
    (type_keys("hoa") + "**", False, "hòa"),
    ("#", False, ""),
])
def test_multitap_typing(keys: str, capitalize: bool, text: str) -> None:
    m = MultiTap(capitalize=capitalize)
    for key in keys:
        m.press(key)
    assert m.finish() == text


def test_multitap_timeout_and_backspace() -> None:
    m = MultiTap(timeout=1.0)
    m.press("2", at=0.0)
    m.press("2", at=2.0)  # after the timeout: a new letter
    assert m.text == "â"
    m.press("3", at=2.1)
    assert m.pending == "d" and m.text == "âd"
    m.backspace()
    assert m.pending == "" and m.text == "â"
    m.backspace()
    assert m.text == ""
    m.press("#")
    assert m.done


def test_the_appliance_starts_the_keypad_and_posts_its_actions(kiosk: Kiosk) -> None:
    from kiosk.appliance.runtime import Appliance

    speech, keypad, posted = FakeSpeechOutput(time_scale=0.001), FakeKeypad(), []
    kiosk.services.speech, kiosk.services.keypad = speech, keypad
    appliance = Appliance(kiosk.services, kiosk.session, request_stop=lambda code: None, with_fleet=False,
                          post=posted.append)
    try:
        appliance.start()
        keypad.press(A.SELECT, A.SELECT).join(5)
        assert kiosk.state is State.ATTRACT and len(posted) == 2  # nothing ran on the keypad's thread
        for fn in posted:
            fn()
        assert kiosk.data.keypad_mode and kiosk.state is State.PROCEDURE
        assert speech.wait_idle(10) and any("Chọn thủ tục" in t for t in speech.said)
        assert {"speech", "keypad"} <= set(kiosk.services.devices())
    finally:
        appliance.stop()
        speech.close()
    assert not keypad._started
