"""Speech through espeak-ng (Debian `espeak-ng`, voices `vi`, `vi-vn-x-central`, `vi-vn-x-south`, `en`).

Each utterance is synthesised to a WAV file (`espeak-ng -v VOICE -s RATE -a AMPLITUDE -w FILE TEXT`, about
0.02-0.05 s per sentence here) and then either
- `output="alsa"`: played with `aplay -q [-D DEVICE] FILE` (Debian `alsa-utils`), or
- `output="wav_dir"`: kept in `wav_dir` as `NNNNNN-speech-vi.wav` / `NNNNNN-tone-digit.wav` (CI, the
  simulator); with `realtime=True` the driver also waits the sound's length, so queueing and interrupts
  behave as on a kiosk.
Everything runs on the worker thread of `QueuedSpeechOutput`; `stop()`/a new `say()` kills the running
espeak-ng or aplay process (terminate, then kill). Every subprocess has a timeout: synthesis
`synth_timeout_s`, playback the sound's length plus `play_slack_s`.

Tones are generated with numpy (sine beeps, 22.05 kHz 16-bit mono WAV), scaled by the volume; no sox needed.

Volume: 0-100 maps to espeak-ng's amplitude `-a` 0-200 (100 = espeak's default at level 50) and the same
factor scales the tones. We do not touch the ALSA mixer: the unit's master level is set once at provisioning.

Headphone detection (`headphones=`):
- "auto": ask ALSA for jack controls, `amixer -c CARD controls` and then `amixer -c CARD cget numid=N` for
  each control whose name contains "Headphone" and "Jack" (e.g. `iface=CARD,name='Headphone Jack'` or
  'Front Headphone Jack' on Intel HDA codecs); connected when any reads `values=on`. Cards are taken
  from `/proc/asound/cards` (the `alsa_card` option picks one). No jack control (USB sound cards, HDMI,
  no card at all) counts as "not connected": personal data is then never spoken aloud. The answer is
  cached for `jack_cache_s`.
- "always": the unit has a fixed handset or its speaker is private (a booth);
- "never": no jack: private text always gets the notice.
- a callable returning bool (tests, a GPIO jack switch).
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Literal
from collections.abc import Callable

import numpy as np

from drivers.base import DeviceStatus, DeviceTimeout, Health
from drivers.speech import (
    DEFAULT_VOLUME, AudioOutputGone, QueuedSpeechOutput, SpeechEngineMissing, SpeechError, ToneKind,
    wait_or_cancel,
)

SAMPLE_RATE = 22050  # espeak-ng's own rate; tones use it too
VOICES = {"vi": "vi", "en": "en"}

# (frequency Hz, seconds) segments; 0 Hz is silence
TONE_SHAPES: dict[ToneKind, list[tuple[float, float]]] = {
    ToneKind.DIGIT: [(1000.0, 0.06)],
    ToneKind.OK: [(660.0, 0.11), (0.0, 0.03), (880.0, 0.14)],
    ToneKind.ERROR: [(330.0, 0.16), (0.0, 0.04), (220.0, 0.26)],
    ToneKind.WARNING: [(880.0, 0.1), (0.0, 0.08), (880.0, 0.1), (0.0, 0.08), (880.0, 0.1)],
}


def tone_wav(kind: ToneKind, volume: int = DEFAULT_VOLUME, rate: int = SAMPLE_RATE) -> bytes:
    """A WAV file (bytes) for a tone: sine segments with 5 ms fades (no clicks), amplitude from `volume`."""
    amplitude = 0.5 * max(0, min(100, volume)) / 100.0
    parts = []
    for freq, seconds in TONE_SHAPES[ToneKind(kind)]:
        n = int(rate * seconds)
        t = np.arange(n) / rate
        seg = np.sin(2 * np.pi * freq * t) if freq else np.zeros(n)
        fade = min(n // 2, int(rate * 0.005))
        if fade and freq:
            ramp = np.linspace(0.0, 1.0, fade)
            seg[:fade] *= ramp
            seg[-fade:] *= ramp[::-1]
        parts.append(seg)
    samples = (np.concatenate(parts) * amplitude * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def wav_seconds(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


class EspeakSpeech(QueuedSpeechOutput):
    driver = "espeak-ng"

    def __init__(
        self,
        *,
        output: Literal["alsa", "wav_dir"] = "alsa",
        wav_dir: str | os.PathLike | None = None,
        realtime: bool = True,
        voices: dict[str, str] | None = None,
        rate_wpm: int = 160,
        pitch: int = 50,
        alsa_device: str | None = None,
        alsa_card: int | str | None = None,
        headphones: Literal["auto", "always", "never"] | Callable[[], bool] = "auto",
        jack_cache_s: float = 1.0,
        synth_timeout_s: float = 10.0,
        play_slack_s: float = 3.0,
        espeak: str = "espeak-ng",
        player: list[str] | None = None,
        amixer: str = "amixer",
        default_volume: int = DEFAULT_VOLUME,
        on_error=None,
    ) -> None:
        super().__init__(default_volume=default_volume, on_error=on_error)
        if output not in ("alsa", "wav_dir"):
            raise ValueError(f"output must be 'alsa' or 'wav_dir', not {output!r}")
        if output == "wav_dir" and not wav_dir:
            raise ValueError("output='wav_dir' needs wav_dir")
        self.output = output
        self.wav_dir = Path(wav_dir) if wav_dir else None
        self.realtime = realtime
        self.voices = {**VOICES, **(voices or {})}
        self.rate_wpm = rate_wpm
        self.pitch = pitch
        self.alsa_device = alsa_device
        self.alsa_card = alsa_card
        self.headphones_mode = headphones
        self.jack_cache_s = jack_cache_s
        self.synth_timeout_s = synth_timeout_s
        self.play_slack_s = play_slack_s
        self.espeak = espeak
        self.player = list(player) if player else ["aplay", "-q"] + (["-D", alsa_device] if alsa_device else [])
        self.amixer = amixer
        self._counter = 0
        self._proc: subprocess.Popen | None = None
        self._proc_lock = threading.Lock()
        self._jack_cache: tuple[float, bool] | None = None
        self._voice_cache: dict[str, bool] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="dvck-speech-")
        self.files: list[Path] = []  # wav_dir mode: every file written, in order (tests, simulator reports)

    # ------------------------------------------------------------------ status
    def status(self) -> DeviceStatus:
        if shutil.which(self.espeak) is None:
            return DeviceStatus(Health.FAILED, f"{self.espeak} not installed (apt-get install espeak-ng)",
                                SpeechEngineMissing.kind)
        missing = [v for v in dict.fromkeys((self.voices["vi"], self.voices["en"])) if not self.has_voice(v)]
        if self.voices["vi"] in missing:
            return DeviceStatus(Health.FAILED, f"espeak-ng has no voice {self.voices['vi']!r}",
                                SpeechEngineMissing.kind)
        if self.output == "alsa":
            if shutil.which(self.player[0]) is None:
                return DeviceStatus(Health.FAILED, f"{self.player[0]} not installed (apt-get install alsa-utils)",
                                    AudioOutputGone.kind)
            if self.player[0] == "aplay" and not self._alsa_cards():
                return DeviceStatus(Health.FAILED, "no ALSA sound card (/proc/asound/cards)", AudioOutputGone.kind)
        base = super().status()
        if not base.ok:
            return base
        notes = [f"espeak-ng voices ok ({', '.join(dict.fromkeys(self.voices.values()))})"]
        if missing:
            notes.append(f"missing voice {missing}")
        if self.headphones_mode == "auto" and self.output == "alsa" and not self._jack_controls():
            notes.append("no headphone jack control: personal data will not be spoken")
            return DeviceStatus(Health.WARNING, "; ".join(notes))
        return DeviceStatus(Health.WARNING if missing else Health.OK, "; ".join(notes))

    def has_voice(self, voice: str) -> bool:
        """Whether `espeak-ng --voices=LANG` lists `voice` (cached)."""
        if voice not in self._voice_cache:
            try:
                out = subprocess.run([self.espeak, f"--voices={voice}"], capture_output=True, text=True,
                                     timeout=5).stdout
            except (OSError, subprocess.TimeoutExpired):
                return False
            names = {line.split()[1].lower() for line in out.splitlines()[1:] if len(line.split()) > 1}
            files = {line.split()[4].lower().rsplit("/", 1)[-1] for line in out.splitlines()[1:]
                     if len(line.split()) > 4}
            self._voice_cache[voice] = voice.lower() in names or voice.lower() in files
        return self._voice_cache[voice]

    def describe(self) -> dict:
        return {**super().describe(), "output": self.output, "voices": self.voices, "rate_wpm": self.rate_wpm}

    def close(self) -> None:
        super().close()
        self._kill_current()
        self._tmp.cleanup()

    # ------------------------------------------------------------------ headphones
    def _headphones(self) -> bool:
        mode = self.headphones_mode
        if callable(mode):
            return bool(mode())
        if mode == "always":
            return True
        if mode == "never":
            return False
        now = time.monotonic()
        if self._jack_cache and now - self._jack_cache[0] < self.jack_cache_s:
            return self._jack_cache[1]
        plugged = any(self._cget(card, numid) for card, numid in self._jack_controls())
        self._jack_cache = (now, plugged)
        return plugged

    def _alsa_cards(self) -> list[str]:
        try:
            text = Path("/proc/asound/cards").read_text()
        except OSError:
            return []
        cards = re.findall(r"^\s*(\d+)\s+\[", text, re.M)
        if self.alsa_card is not None:
            cards = [c for c in cards if c == str(self.alsa_card)] or [str(self.alsa_card)]
        return cards

    def _jack_controls(self) -> list[tuple[str, str]]:
        found = []
        for card in self._alsa_cards():
            try:
                out = subprocess.run([self.amixer, "-c", card, "controls"], capture_output=True, text=True,
                                     timeout=2).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            found += [(card, m.group(1)) for m in re.finditer(r"numid=(\d+),iface=CARD,name='([^']*)'", out)
                      if "headphone" in m.group(2).lower() and "jack" in m.group(2).lower()]
        return found

    def _cget(self, card: str, numid: str) -> bool:
        try:
            out = subprocess.run([self.amixer, "-c", card, "cget", f"numid={numid}"], capture_output=True,
                                 text=True, timeout=2).stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
        return bool(re.search(r":\s*values=on\b", out))

    # ------------------------------------------------------------------ sound
    def _next_path(self, what: str) -> Path:
        self._counter += 1
        folder = self.wav_dir if self.output == "wav_dir" else Path(self._tmp.name)
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self._counter:06d}-{what}.wav"

    def synthesise(self, text: str, lang: str, path: Path, cancel: threading.Event | None = None) -> Path:
        """Write `text` as a WAV with espeak-ng (the worker's step; public for measurements)."""
        if shutil.which(self.espeak) is None:
            raise SpeechEngineMissing(f"{self.espeak} not installed", device=self.driver)
        voice = self.voices.get(lang, self.voices["vi"])
        amplitude = str(round(self.volume * 2))
        cmd = [self.espeak, "-v", voice, "-s", str(self.rate_wpm), "-p", str(self.pitch), "-a", amplitude,
               "-w", str(path), "--", text]
        proc = self._run(cmd, self.synth_timeout_s, cancel or threading.Event(), "espeak-ng")
        if proc is None:
            return path  # cancelled
        if proc.returncode != 0:
            err = _last_line(proc.stderr_text)
            if "voice" in err.lower() or "language" in err.lower():
                raise SpeechEngineMissing(f"espeak-ng voice {voice!r} not usable: {err}", device=self.driver)
            raise SpeechError(f"espeak-ng exited {proc.returncode}: {err}", device=self.driver)
        return path

    def _speak(self, text: str, lang: str, cancel: threading.Event) -> None:
        path = self._next_path(f"speech-{lang}")
        self.synthesise(text, lang, path, cancel)
        if cancel.is_set():
            return
        self._deliver(path, cancel)

    def _play_tone(self, kind: ToneKind, cancel: threading.Event) -> None:
        path = self._next_path(f"tone-{kind.value}")
        path.write_bytes(tone_wav(kind, self.volume))
        self._deliver(path, cancel)

    def _deliver(self, path: Path, cancel: threading.Event) -> None:
        seconds = wav_seconds(path)
        if self.output == "wav_dir":
            self.files.append(path)
            if self.realtime:
                wait_or_cancel(cancel, seconds)
            return
        try:
            proc = self._run(self.player + [str(path)], seconds + self.play_slack_s, cancel, "player")
            if proc is not None and proc.returncode != 0:
                raise AudioOutputGone(f"{self.player[0]} exited {proc.returncode}: {_last_line(proc.stderr_text)}",
                                      device=self.driver)
        finally:
            path.unlink(missing_ok=True)

    def _run(self, cmd: list[str], timeout: float, cancel: threading.Event, what: str):
        """Run `cmd`, killing it on cancel or timeout. None when cancelled; raises DeviceTimeout on timeout."""
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError as e:
            if what == "espeak-ng":
                raise SpeechEngineMissing(f"{cmd[0]} not found", device=self.driver) from e
            raise AudioOutputGone(f"{cmd[0]} not found", device=self.driver) from e
        except OSError as e:
            raise SpeechError(f"cannot start {cmd[0]}: {e}", device=self.driver) from e
        with self._proc_lock:
            self._proc = proc
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if cancel.wait(0.02):
                    self._kill(proc)
                    return None
                if time.monotonic() > deadline:
                    self._kill(proc)
                    raise DeviceTimeout(f"{what} did not finish in {timeout:.1f} s", device=self.driver)
            # kept on the process for the caller's error message
            proc.stderr_text = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""  # type: ignore[attr-defined]
            return proc
        finally:
            if proc.stderr:
                proc.stderr.close()
            with self._proc_lock:
                if self._proc is proc:
                    self._proc = None

    def _kill_current(self) -> None:
        with self._proc_lock:
            proc = self._proc
        if proc is not None:
            self._kill(proc)

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=1.0)
