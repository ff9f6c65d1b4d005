"""Spoken guidance: the `SpeechOutput` interface, its errors, and the queue/worker plumbing every speech
driver shares (the espeak-ng driver and the fake).

Rules the interface enforces, whatever the engine (EN 301 549 cl. 5/8, self-service machines):
- `say()` never blocks the caller: it queues the text and returns an `Utterance` handle at once; a worker
  thread speaks. By default a new utterance interrupts the current one and drops what is queued (a new
  screen supersedes the old one); `interrupt=False` appends.
- Personal data (`private=True`: names, ID numbers, addresses, dossier contents) is spoken only while
  headphones are plugged in. Otherwise `PRIVACY_NOTICE` is spoken in its place (once for a run of private
  utterances) and the utterance is marked `WITHHELD`. The check is made when the utterance is about to be
  spoken, so unplugging the headphones while it waits in the queue withholds it.
- `tone(kind)` plays a short non-speech sound: key clicks and masked entries (OTP, PIN digits) never speak
  the digit.
- `reset()` (end of every session) stops speech, restores the default volume and forgets the last
  utterance, so the next citizen cannot `repeat()` the previous one's.
- Text is spoken as given: callers pass it through `kiosk.domain.speech_text.spoken()` first (drivers do
  not import the kiosk).

Failures on the worker (engine missing, audio device gone, a hung synthesiser) never raise into the UI:
the utterance ends `FAILED` with a `DeviceError` attached, `status()` turns FAILED until an utterance
succeeds again, and an optional `on_error` callback hears about it.
"""
from __future__ import annotations

import abc
import collections
import dataclasses
import enum
import itertools
import logging
import re
import threading
import time
from typing import ClassVar
from collections.abc import Callable

from drivers.base import Device, DeviceError, DeviceGone, DeviceStatus, DeviceTimeout, Health

log = logging.getLogger(__name__)

# One constant for the notice spoken instead of personal data when no headphones are plugged in.
PRIVACY_NOTICE = ("Để bảo vệ thông tin cá nhân của bạn, máy sẽ không đọc to thông tin cá nhân khi chưa có tai nghe. "
                  "Vui lòng cắm tai nghe vào lỗ cắm tai nghe trên máy.")
PRIVACY_NOTICE_EN = ("To protect your personal data, the kiosk does not read it aloud without headphones. "
                     "Please plug headphones into the headphone jack on the kiosk.")

VOLUME_MIN, VOLUME_MAX = 0, 100
DEFAULT_VOLUME = 60
VOLUME_STEP = 10


# --------------------------------------------------------------------------------------------- errors
class SpeechError(DeviceError):
    """Speech could not be produced (base of the speech-specific errors)."""

    kind = "speech_error"


class SpeechEngineMissing(SpeechError):
    """The synthesiser (espeak-ng) or the requested voice is not installed."""

    kind = "speech_engine_missing"


class AudioOutputGone(DeviceGone):
    """No sound card / the audio device vanished (speech is synthesised but cannot be played)."""


# --------------------------------------------------------------------------------------------- values
class ToneKind(str, enum.Enum):
    DIGIT = "digit"      # a key press / one masked digit of an OTP or PIN
    ERROR = "error"      # wrong entry, a failed step
    OK = "ok"            # accepted
    WARNING = "warning"  # inactivity countdown, attention


class UtteranceState(str, enum.Enum):
    QUEUED = "queued"
    SPEAKING = "speaking"
    SPOKEN = "spoken"
    WITHHELD = "withheld"        # private text without headphones: the privacy notice was spoken instead
    INTERRUPTED = "interrupted"  # stop(), or a newer say() with interrupt=True, cut it (or dropped it from the queue)
    FAILED = "failed"


_FINAL = {UtteranceState.SPOKEN, UtteranceState.WITHHELD, UtteranceState.INTERRUPTED, UtteranceState.FAILED}
_ids = itertools.count(1)


@dataclasses.dataclass(eq=False)
class Utterance:
    """One queued piece of speech (or a tone). Returned by `say()`/`tone()`; its state changes as the worker
    gets to it. `spoken_text` is what actually went to the voice: the text, the privacy notice, "" (a notice
    not repeated), or the tone's name."""

    text: str
    lang: str = "vi"
    private: bool = False
    tone: ToneKind | None = None
    id: int = dataclasses.field(default_factory=lambda: next(_ids))
    state: UtteranceState = UtteranceState.QUEUED
    spoken_text: str = ""
    duration_s: float = 0.0  # time spent speaking (the fake: its estimate, scaled)
    error: DeviceError | None = None
    queued_at: float = dataclasses.field(default_factory=time.monotonic)
    _done: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    _cancel: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)

    @property
    def withheld(self) -> bool:
        return self.state is UtteranceState.WITHHELD

    @property
    def interrupted(self) -> bool:
        return self.state is UtteranceState.INTERRUPTED

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """Block (tests, the CLI; never the UI thread) until spoken, withheld, interrupted or failed."""
        return self._done.wait(timeout)

    def _finish(self, state: UtteranceState, error: DeviceError | None = None) -> None:
        if self._done.is_set():
            return
        self.state, self.error = state, error
        self._done.set()


def estimate_duration(text: str, lang: str = "vi", rate_wpm: int = 175) -> float:
    """Seconds a voice takes for `text` at `rate_wpm`: espeak-ng's `vi` voice at 175 wpm measured about 0.26 s per
    syllable (a Vietnamese word is one syllable) plus about 0.25 s per clause pause and 0.3 s at the end."""
    words = len(text.split())
    if lang == "en":
        words = sum(max(1, round(len(re.sub(r"\W", "", w)) / 4)) for w in text.split())
    pauses = len(re.findall(r"[,.;:!?]", text))
    return (0.3 + words * 0.26 + pauses * 0.25) * 175.0 / max(80, rate_wpm) if words else 0.0


# --------------------------------------------------------------------------------------------- interface
class SpeechOutput(Device):
    kind: ClassVar[str] = "speech"

    @abc.abstractmethod
    def say(self, text: str, *, lang: str = "vi", private: bool = False, interrupt: bool = True) -> Utterance:
        """Queue `text` (already normalised for speech) and return at once."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Interrupt the current utterance and drop everything queued."""

    @abc.abstractmethod
    def repeat(self) -> Utterance | None:
        """Say the last public (non-private) utterance again; None when there is none."""

    @abc.abstractmethod
    def tone(self, kind: ToneKind | str, *, interrupt: bool = False) -> Utterance:
        """Queue a short non-speech sound ("digit", "error", "ok", "warning")."""

    @abc.abstractmethod
    def set_volume(self, level: int) -> int:
        """Set the volume (0-100, clamped); returns the level now in force."""

    @property
    @abc.abstractmethod
    def volume(self) -> int: ...

    def volume_up(self) -> int:
        return self.set_volume(self.volume + VOLUME_STEP)

    def volume_down(self) -> int:
        return self.set_volume(self.volume - VOLUME_STEP)

    @abc.abstractmethod
    def reset(self) -> None:
        """End of a session: stop, default volume, forget the last utterance."""

    @abc.abstractmethod
    def headphones_connected(self) -> bool: ...

    @property
    @abc.abstractmethod
    def is_speaking(self) -> bool: ...


# --------------------------------------------------------------------------------------------- shared worker
class QueuedSpeechOutput(SpeechOutput):
    """The queue, worker thread, privacy rule, repeat and volume; subclasses only produce sound.

    Subclasses implement `_speak(text, lang, cancel)` and `_play_tone(kind, cancel)`, which block until the
    sound has played or `cancel` is set (then they must return within about 0.1 s) and raise a DeviceError on
    failure, and `_headphones()`.
    """

    def __init__(self, *, default_volume: int = DEFAULT_VOLUME,
                 on_error: Callable[[Utterance, DeviceError], None] | None = None) -> None:
        self.default_volume = _clamp(default_volume)
        self._volume = self.default_volume
        self.on_error = on_error
        self._cv = threading.Condition()
        self._queue: collections.deque[Utterance] = collections.deque()
        self._current: Utterance | None = None
        self._last_public: tuple[str, str] | None = None
        self._last_error: DeviceError | None = None
        self._notice_pending_repeat = False  # the notice was just spoken: do not repeat it for the next withheld
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ subclass hooks
    @abc.abstractmethod
    def _speak(self, text: str, lang: str, cancel: threading.Event) -> None: ...

    @abc.abstractmethod
    def _play_tone(self, kind: ToneKind, cancel: threading.Event) -> None: ...

    @abc.abstractmethod
    def _headphones(self) -> bool: ...

    # ------------------------------------------------------------------ public API
    def say(self, text: str, *, lang: str = "vi", private: bool = False, interrupt: bool = True) -> Utterance:
        utterance = Utterance(text=text, lang=lang, private=private)
        if not private:
            self._last_public = (text, lang)
        self._enqueue(utterance, interrupt)
        return utterance

    def tone(self, kind: ToneKind | str, *, interrupt: bool = False) -> Utterance:
        kind = ToneKind(kind)
        utterance = Utterance(text="", tone=kind)
        self._enqueue(utterance, interrupt)
        return utterance

    def repeat(self) -> Utterance | None:
        if self._last_public is None:
            return None
        text, lang = self._last_public
        return self.say(text, lang=lang)

    def stop(self) -> None:
        with self._cv:
            self._cancel_all()

    def set_volume(self, level: int) -> int:
        self._volume = _clamp(level)
        self._apply_volume(self._volume)
        return self._volume

    @property
    def volume(self) -> int:
        return self._volume

    def reset(self) -> None:
        self.stop()
        self._last_public = None
        self._notice_pending_repeat = False
        self.set_volume(self.default_volume)

    def headphones_connected(self) -> bool:
        try:
            return bool(self._headphones())
        except Exception:  # noqa: BLE001 - detection failing must never speak personal data
            log.debug("headphone detection failed", exc_info=True)
            return False

    @property
    def is_speaking(self) -> bool:
        with self._cv:
            return self._current is not None or bool(self._queue)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or playing (tests, CLI). True when idle in time."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._current is not None or self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def status(self) -> DeviceStatus:
        if self._last_error is not None:
            return DeviceStatus(Health.FAILED, self._last_error.detail, self._last_error.kind)
        return DeviceStatus(Health.OK, f"{self.driver} speech")

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cancel_all()
            self._cv.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2.0)

    def describe(self) -> dict:
        return {**super().describe(), "volume": self._volume, "headphones": self.headphones_connected()}

    # ------------------------------------------------------------------ internals
    def _apply_volume(self, level: int) -> None:  # noqa: B027 - hardware mixer hook
        """Engines that set a mixer do it here; others read `self.volume` when they synthesise."""

    def _enqueue(self, utterance: Utterance, interrupt: bool) -> None:
        with self._cv:
            if self._closed:
                utterance._finish(UtteranceState.INTERRUPTED)
                return
            if interrupt:
                self._cancel_all()
                self._notice_pending_repeat = False  # a new screen: its first private item gets the notice again
            self._queue.append(utterance)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._worker, name=f"speech-{self.driver}", daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def _cancel_all(self) -> None:
        """Caller holds the lock."""
        for queued in self._queue:
            queued._cancel.set()
            queued._finish(UtteranceState.INTERRUPTED)
        self._queue.clear()
        if self._current is not None:
            self._current._cancel.set()
        self._cv.notify_all()

    def _worker(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed and not self._queue:
                    return
                utterance = self._queue.popleft()
                self._current = utterance
            try:
                self._render(utterance)
            finally:
                with self._cv:
                    self._current = None
                    self._cv.notify_all()

    def _render(self, u: Utterance) -> None:
        u.state = UtteranceState.SPEAKING
        started = time.monotonic()
        final = UtteranceState.SPOKEN
        try:
            if u.tone is not None:
                u.spoken_text = u.tone.value
                self._play_tone(u.tone, u._cancel)
            elif not u.text.strip():
                pass  # nothing to say: done at once, no engine call
            elif u.private and not self.headphones_connected():
                final = UtteranceState.WITHHELD
                if self._notice_pending_repeat:
                    u.spoken_text = ""  # a run of private items: the notice is said once
                else:
                    u.spoken_text = PRIVACY_NOTICE_EN if u.lang == "en" else PRIVACY_NOTICE
                    self._speak(u.spoken_text, u.lang, u._cancel)
                    self._notice_pending_repeat = not u._cancel.is_set()
            else:
                u.spoken_text = u.text
                self._speak(u.text, u.lang, u._cancel)
                self._notice_pending_repeat = False
        except DeviceError as e:
            u.duration_s = time.monotonic() - started
            self._last_error = e
            log.warning("speech %s failed: %s", self.driver, e.detail)
            u._finish(UtteranceState.FAILED, e)
            if self.on_error is not None:
                try:
                    self.on_error(u, e)
                except Exception:  # noqa: BLE001 - a callback must not kill the worker
                    log.exception("speech on_error callback failed")
            return
        except Exception as e:  # noqa: BLE001 - an engine bug is reported, the worker lives on
            err = SpeechError(f"{type(e).__name__}: {e}")
            self._last_error = err
            log.exception("speech %s crashed", self.driver)
            u._finish(UtteranceState.FAILED, err)
            return
        if not u.duration_s:
            u.duration_s = time.monotonic() - started
        self._last_error = None
        u._finish(UtteranceState.INTERRUPTED if u._cancel.is_set() else final)


def _clamp(level: int) -> int:
    return max(VOLUME_MIN, min(VOLUME_MAX, int(round(level))))


def wait_or_cancel(cancel: threading.Event, seconds: float) -> bool:
    """Sleep up to `seconds`, returning early (True) when `cancel` is set."""
    return cancel.wait(max(0.0, seconds))


__all__ = [
    "PRIVACY_NOTICE", "PRIVACY_NOTICE_EN", "DEFAULT_VOLUME", "VOLUME_STEP", "SpeechError", "SpeechEngineMissing",
    "AudioOutputGone", "DeviceTimeout", "ToneKind", "UtteranceState", "Utterance", "SpeechOutput",
    "QueuedSpeechOutput", "estimate_duration", "wait_or_cancel",
]
