"""A speech output for the demo, `kiosk simulate` and tests: it records every utterance and takes as long as a
real voice would (estimated from the text; `time_scale` shrinks it for tests), queued on a worker thread
like the real driver, with the same privacy rule, interrupt, repeat, tones and volume.

Faults (constructor or `set_fault()` at any time, also mid-utterance):
- "engine_missing": espeak-ng or its voice is not installed -> each utterance FAILED with SpeechEngineMissing.
- "gone": the audio device vanished -> FAILED with AudioOutputGone (a DeviceGone).
- "hang": the synthesiser hangs -> after `hang_timeout_s` the utterance FAILED with DeviceTimeout, as the
  real driver's subprocess timeout does.
"""
from __future__ import annotations

import dataclasses
import threading
import time

from drivers.base import DeviceStatus, DeviceTimeout, Health
from drivers.speech import (
    DEFAULT_VOLUME, AudioOutputGone, QueuedSpeechOutput, SpeechEngineMissing, ToneKind, Utterance,
    estimate_duration,
)

FAULTS = (None, "engine_missing", "gone", "hang")
TONE_SECONDS = {ToneKind.DIGIT: 0.06, ToneKind.OK: 0.25, ToneKind.ERROR: 0.35, ToneKind.WARNING: 0.5}


@dataclasses.dataclass
class SpokenRecord:
    """What the fake did with one utterance, after the worker got to it."""

    text: str
    lang: str
    private: bool
    outcome: str  # spoken | withheld | interrupted | failed (and the tone kinds: tone)
    spoken_text: str
    estimated_s: float
    interrupted: bool
    volume: int
    tone: str = ""


class FakeSpeechOutput(QueuedSpeechOutput):
    driver = "fake"

    def __init__(self, *, headphones: bool = False, time_scale: float = 1.0, rate_wpm: int = 175,
                 fault: str | None = None, hang_timeout_s: float = 0.5, default_volume: int = DEFAULT_VOLUME,
                 on_error=None) -> None:
        super().__init__(default_volume=default_volume, on_error=on_error)
        self.time_scale = time_scale
        self.rate_wpm = rate_wpm
        self.hang_timeout_s = hang_timeout_s
        self._headphones_in = headphones
        self._fault: str | None = None
        self.set_fault(fault)
        self.utterances: list[Utterance] = []  # every say()/tone(), in call order
        self.records: list[SpokenRecord] = []  # what the worker did, in the order it did it
        self._records_lock = threading.Lock()

    # ------------------------------------------------------------------ test controls
    def set_fault(self, fault: str | None) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        self._fault = fault
        if fault is None:
            self._last_error = None

    def plug_headphones(self, plugged: bool = True) -> None:
        self._headphones_in = plugged

    @property
    def said(self) -> list[str]:
        """The texts that reached the voice (spoken, or the privacy notice), tones excluded."""
        with self._records_lock:
            return [r.spoken_text for r in self.records if not r.tone and r.spoken_text]

    # ------------------------------------------------------------------ API additions
    def say(self, text: str, *, lang: str = "vi", private: bool = False, interrupt: bool = True) -> Utterance:
        utterance = super().say(text, lang=lang, private=private, interrupt=interrupt)
        self.utterances.append(utterance)
        return utterance

    def tone(self, kind, *, interrupt: bool = False) -> Utterance:
        utterance = super().tone(kind, interrupt=interrupt)
        self.utterances.append(utterance)
        return utterance

    def status(self) -> DeviceStatus:
        if self._fault == "engine_missing":
            return DeviceStatus(Health.FAILED, "espeak-ng not installed (fake)", SpeechEngineMissing.kind)
        if self._fault == "gone":
            return DeviceStatus(Health.FAILED, "no audio device (fake)", AudioOutputGone.kind)
        return super().status()

    # ------------------------------------------------------------------ hooks
    def _headphones(self) -> bool:
        return self._headphones_in

    def _speak(self, text: str, lang: str, cancel: threading.Event) -> None:
        self._play(estimate_duration(text, lang, self.rate_wpm), cancel, text, lang)

    def _play_tone(self, kind: ToneKind, cancel: threading.Event) -> None:
        self._play(TONE_SECONDS[kind], cancel, kind.value, "", tone=kind.value)

    def _render(self, u: Utterance) -> None:
        super()._render(u)
        with self._records_lock:
            outcome = "tone" if u.tone and u.state.value == "spoken" else u.state.value
            estimate = (TONE_SECONDS[u.tone] if u.tone else estimate_duration(u.spoken_text, u.lang, self.rate_wpm))
            self.records.append(SpokenRecord(
                text=u.text, lang=u.lang, private=u.private, outcome=outcome, spoken_text=u.spoken_text,
                estimated_s=estimate * self.time_scale, interrupted=u.interrupted, volume=self.volume,
                tone=u.tone.value if u.tone else ""))

    def _play(self, seconds: float, cancel: threading.Event, what: str, lang: str, tone: str = "") -> None:
        self._raise_fault()
        deadline = time.monotonic() + seconds * self.time_scale
        while not cancel.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            cancel.wait(min(left, 0.02))
            self._raise_fault()

    def _raise_fault(self) -> None:
        if self._fault == "engine_missing":
            raise SpeechEngineMissing("espeak-ng not installed (fake)", device="fake")
        if self._fault == "gone":
            raise AudioOutputGone("audio device gone (fake)", device="fake")
        if self._fault == "hang":
            time.sleep(self.hang_timeout_s)
            raise DeviceTimeout(f"synthesiser did not finish in {self.hang_timeout_s} s (fake)", device="fake")
