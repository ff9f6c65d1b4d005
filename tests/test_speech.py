"""Speech output: the fake (queue, timing, privacy rule, tones, volume, faults) and the real espeak-ng driver
writing WAV files that are checked for sound (RMS), length and, for tones, a single pure frequency.

No sound card exists on CI: the ALSA path is driven with a stand-in player (a `sleep`) to test that an
interrupt kills it and that a hung player times out, and with the real aplay only for "no card".
"""
from __future__ import annotations

import shutil
import stat
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.base import DeviceGone, DeviceTimeout, Health
from drivers.espeak_speech import EspeakSpeech, tone_wav
from drivers.fakes.speech import FakeSpeechOutput
from drivers.speech import (
    DEFAULT_VOLUME, PRIVACY_NOTICE, PRIVACY_NOTICE_EN, SpeechEngineMissing, SpeechOutput, ToneKind,
    UtteranceState, estimate_duration,
)

WELCOME = "Xin chào. Vui lòng đưa mã QR trên ứng dụng VNeID vào trước camera."
NAME = "Họ và tên: Nguyễn Văn An"
ADDRESS = "Địa chỉ: thôn Bản Lầu, xã Mường Khương, tỉnh Lào Cai"
LONG = " ".join(["Hồ sơ của bạn đã được tiếp nhận, vui lòng chờ nhận biên nhận và phiếu số thứ tự."] * 12)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


# --------------------------------------------------------------------------------------------- helpers
def _samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
        return data, w.getframerate()


def _rms(data: np.ndarray) -> float:
    return float(np.sqrt(np.mean(data**2))) if data.size else 0.0


def _dominant_share(data: np.ndarray) -> float:
    """Share of the spectrum's energy within +-2 % of its strongest frequency: near 1 for a beep, low for speech."""
    spectrum = np.abs(np.fft.rfft(data)) ** 2
    peak = int(np.argmax(spectrum))
    band = max(2, peak // 50)
    return float(spectrum[max(0, peak - band):peak + band + 1].sum() / spectrum.sum())


def _stand_in(tmp_path: Path, name: str, body: str) -> str:
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


# --------------------------------------------------------------------------------------------- fake
def test_say_returns_at_once_and_speech_takes_as_long_as_a_voice():
    speech = FakeSpeechOutput(time_scale=0.05, headphones=True)
    assert isinstance(speech, SpeechOutput)
    started = time.monotonic()
    first = speech.say(WELCOME)
    second = speech.say("Bước ba trên bảy", interrupt=False)
    assert time.monotonic() - started < 0.05  # the UI thread never waits
    assert speech.is_speaking and first.state in (UtteranceState.QUEUED, UtteranceState.SPEAKING)
    assert second.wait(3) and first.state is UtteranceState.SPOKEN and second.state is UtteranceState.SPOKEN
    assert speech.said == [WELCOME, "Bước ba trên bảy"]
    long_estimate, short_estimate = speech.records[0].estimated_s, speech.records[1].estimated_s
    assert long_estimate > 2 * short_estimate > 0
    assert 0.9 * estimate_duration(WELCOME) * 0.05 <= first.duration_s < estimate_duration(WELCOME) * 0.05 + 0.5
    assert 2.5 < estimate_duration(WELCOME) < 6  # espeak-ng measured 3.7 s for this sentence at 175 wpm
    assert not speech.is_speaking
    speech.close()


def test_a_new_utterance_interrupts_the_current_one_and_drops_the_queue():
    speech = FakeSpeechOutput(time_scale=0.2)
    long = speech.say(LONG)
    queued = speech.say("sau đó", interrupt=False)
    time.sleep(0.1)
    started = time.monotonic()
    new = speech.say("Màn hình mới")
    assert new.wait(5)
    assert long.state is UtteranceState.INTERRUPTED and long.interrupted
    assert queued.state is UtteranceState.INTERRUPTED and queued.spoken_text == ""  # never reached the voice
    assert new.state is UtteranceState.SPOKEN
    assert time.monotonic() - started < 2.0
    outcomes = [(r.text, r.outcome, r.interrupted) for r in speech.records]
    assert outcomes == [(LONG, "interrupted", True), ("Màn hình mới", "spoken", False)]
    speech.close()


def test_empty_text_is_done_at_once():
    speech = FakeSpeechOutput(time_scale=1.0)
    u = speech.say("   ")
    assert u.wait(0.5) and u.state is UtteranceState.SPOKEN and speech.said == []


def test_stop_interrupts_quickly():
    speech = FakeSpeechOutput(time_scale=1.0)
    long = speech.say(LONG)
    time.sleep(0.1)
    started = time.monotonic()
    speech.stop()
    assert long.wait(1.0) and long.interrupted
    assert time.monotonic() - started < 0.5  # of a minute-long text
    assert speech.wait_idle(1) and not speech.is_speaking


def test_private_text_without_headphones_is_replaced_by_the_notice_once():
    speech = FakeSpeechOutput(time_scale=0.01, headphones=False)
    intro = speech.say("Kiểm tra thông tin của bạn.")
    name = speech.say(NAME, private=True, interrupt=False)
    address = speech.say(ADDRESS, private=True, interrupt=False)
    after = speech.say("Bấm Tiếp tục nếu đúng.", interrupt=False)
    late = speech.say("Số CCCD không không một", private=True, interrupt=False)
    assert speech.wait_idle(5)
    assert intro.state is UtteranceState.SPOKEN and after.state is UtteranceState.SPOKEN
    assert name.withheld and name.spoken_text == PRIVACY_NOTICE
    assert address.withheld and address.spoken_text == ""  # the notice is not repeated for a run of private items
    assert late.withheld and late.spoken_text == PRIVACY_NOTICE  # public speech came between: said again
    assert speech.said == ["Kiểm tra thông tin của bạn.", PRIVACY_NOTICE, "Bấm Tiếp tục nếu đúng.", PRIVACY_NOTICE]
    assert not any("Nguyễn" in text or "Lào Cai" in text for text in speech.said)
    assert [r.outcome for r in speech.records] == ["spoken", "withheld", "withheld", "spoken", "withheld"]
    english = speech.say("Name: Nguyen Van An", lang="en", private=True)
    assert english.wait(2) and english.spoken_text == PRIVACY_NOTICE_EN


def test_private_text_with_headphones_is_spoken_and_unplugging_withholds_what_is_queued():
    speech = FakeSpeechOutput(time_scale=0.01, headphones=True)
    name = speech.say(NAME, private=True)
    assert name.wait(2) and name.state is UtteranceState.SPOKEN and speech.said == [NAME]
    speech.time_scale = 0.05
    blocker = speech.say(WELCOME)  # about 0.2 s
    address = speech.say(ADDRESS, private=True, interrupt=False)
    time.sleep(0.05)
    speech.plug_headphones(False)  # pulled out while the address waits in the queue
    assert address.wait(3) and blocker.state is UtteranceState.SPOKEN
    assert address.withheld and ADDRESS not in speech.said


def test_repeat_says_the_last_public_utterance_and_reset_forgets_it():
    speech = FakeSpeechOutput(time_scale=0.01, headphones=False)
    assert speech.repeat() is None
    speech.say("Vui lòng chọn thủ tục.")
    speech.say(NAME, private=True, interrupt=False)
    again = speech.repeat()
    assert again is not None and again.wait(2)
    assert again.text == "Vui lòng chọn thủ tục." and not again.private
    speech.reset()
    assert speech.repeat() is None  # the next citizen cannot replay the previous one's guidance


def test_tones_are_not_speech():
    speech = FakeSpeechOutput(time_scale=0.01)
    speech.say("Nhập mã xác thực.")
    beeps = [speech.tone("digit", interrupt=False) for _ in range(6)]
    ok = speech.tone(ToneKind.OK, interrupt=False)
    assert speech.wait_idle(3)
    assert all(b.state is UtteranceState.SPOKEN and b.tone is ToneKind.DIGIT for b in beeps) and ok.tone is ToneKind.OK
    assert speech.said == ["Nhập mã xác thực."]  # no digit was ever spoken
    assert [r.tone for r in speech.records[1:]] == ["digit"] * 6 + ["ok"]
    with pytest.raises(ValueError):
        speech.tone("fanfare")


def test_volume_is_clamped_and_reset_per_session():
    speech = FakeSpeechOutput(time_scale=0.01)
    assert speech.volume == DEFAULT_VOLUME
    assert speech.set_volume(150) == 100 and speech.set_volume(-3) == 0
    speech.set_volume(50)
    assert speech.volume_up() == 60 and speech.volume_up() == 70 and speech.volume_down() == 60
    speech.set_volume(90)
    u = speech.say("to hơn")
    assert u.wait(2) and speech.records[-1].volume == 90
    speech.reset()
    assert speech.volume == DEFAULT_VOLUME


def test_fake_faults():
    errors = []
    speech = FakeSpeechOutput(time_scale=0.01, fault="engine_missing", on_error=lambda u, e: errors.append(e))
    assert speech.status().health is Health.FAILED and speech.status().error_kind == "speech_engine_missing"
    u = speech.say(WELCOME)
    assert u.wait(2) and u.state is UtteranceState.FAILED and isinstance(u.error, SpeechEngineMissing)
    assert errors and isinstance(errors[0], SpeechEngineMissing)
    speech.set_fault(None)
    assert speech.say("lại").wait(2) and speech.status().health is Health.OK

    speech.time_scale = 1.0
    long = speech.say(LONG)
    time.sleep(0.1)
    speech.set_fault("gone")  # the USB sound card is pulled mid-sentence
    assert long.wait(1) and long.state is UtteranceState.FAILED and isinstance(long.error, DeviceGone)
    assert speech.status().error_kind == "device_gone"

    hung = FakeSpeechOutput(time_scale=0.01, fault="hang", hang_timeout_s=0.1)
    u = hung.say(WELCOME)
    assert u.wait(2) and isinstance(u.error, DeviceTimeout)
    with pytest.raises(ValueError):
        FakeSpeechOutput(fault="on-fire")


# --------------------------------------------------------------------------------------------- espeak-ng
@needs_espeak
def test_espeak_status_reports_the_voices(tmp_path):
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False)
    status = speech.status()
    assert status.health is Health.OK and "vi" in status.detail
    assert speech.has_voice("vi") and not speech.has_voice("xx-nonexistent")
    missing = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, espeak="espeak-ng-not-installed")
    assert missing.status().error_kind == "speech_engine_missing"
    u = missing.say(WELCOME)
    assert u.wait(3) and isinstance(u.error, SpeechEngineMissing)
    no_voice = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, voices={"vi": "xx-nonexistent"})
    assert no_voice.status().error_kind == "speech_engine_missing"
    for s in (speech, missing, no_voice):
        s.close()


@needs_espeak
@pytest.mark.parametrize(("text", "lang"), [
    (WELCOME, "vi"),
    ("Mã hồ sơ của bạn là hát ba tám chấm không một gạch ngang hai sáu một hai không hai", "vi"),
    ("Please scan the QR code in your VNeID app.", "en"),
])
def test_espeak_writes_audible_wavs_of_plausible_length(tmp_path, text, lang):
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False, headphones="never")
    u = speech.say(text, lang=lang)
    assert u.wait(10) and u.state is UtteranceState.SPOKEN, u.error
    [wav] = speech.files
    assert wav.parent == tmp_path and f"speech-{lang}" in wav.name
    data, rate = _samples(wav)
    seconds = data.size / rate
    syllables = len(text.split())
    assert 0.15 * syllables < seconds < 0.6 * syllables + 1.0, seconds
    assert _rms(data) > 0.02  # not silent
    assert _dominant_share(data) < 0.5  # speech, not a beep
    speech.close()


@needs_espeak
def test_espeak_privacy_rule_with_and_without_headphones(tmp_path):
    plugged = {"in": False}
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False, headphones=lambda: plugged["in"])
    withheld = speech.say(NAME, private=True)
    assert withheld.wait(10) and withheld.withheld and withheld.spoken_text == PRIVACY_NOTICE
    plugged["in"] = True
    spoken_now = speech.say(NAME, private=True)
    assert spoken_now.wait(10) and spoken_now.state is UtteranceState.SPOKEN and spoken_now.spoken_text == NAME
    notice_len = _samples(speech.files[0])[0].size
    name_len = _samples(speech.files[1])[0].size
    assert notice_len > 3 * name_len  # the first file is the long notice, not the short name
    speech.close()


@needs_espeak
def test_espeak_tones_are_pure_beeps_and_follow_the_volume(tmp_path):
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False)
    speech.set_volume(100)
    loud = speech.tone("digit")
    assert loud.wait(3) and loud.state is UtteranceState.SPOKEN
    speech.reset()
    assert speech.volume == DEFAULT_VOLUME
    speech.set_volume(20)
    quiet = speech.tone("digit")
    assert quiet.wait(3)
    loud_data, rate = _samples(speech.files[0])
    quiet_data, _ = _samples(speech.files[1])
    assert loud_data.size / rate == pytest.approx(0.06, abs=0.005)
    peak_hz = np.argmax(np.abs(np.fft.rfft(loud_data))) * rate / loud_data.size
    assert abs(peak_hz - 1000) < 40 and _dominant_share(loud_data) > 0.8
    assert _rms(loud_data) > 4 * _rms(quiet_data) > 0
    for kind in ToneKind:
        data, _ = _samples_bytes(tone_wav(kind), tmp_path / f"{kind.value}.wav")
        assert 0.05 < data.size / 22050 < 0.7 and _rms(data) > 0.05
    speech.close()


def _samples_bytes(blob: bytes, path: Path):
    path.write_bytes(blob)
    return _samples(path)


@needs_espeak
def test_espeak_volume_sets_the_amplitude(tmp_path):
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=False)
    speech.set_volume(100)
    assert speech.say("Xin chào").wait(5)
    speech.reset()
    speech.set_volume(25)
    assert speech.say("Xin chào").wait(5)
    loud, quiet = (_rms(_samples(f)[0]) for f in speech.files)
    assert loud > 2.5 * quiet > 0
    speech.close()


@needs_espeak
def test_espeak_interrupt_stops_a_long_utterance_quickly(tmp_path):
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, realtime=True)
    long = speech.say(LONG)
    time.sleep(0.4)
    assert long.state is UtteranceState.SPEAKING
    started = time.monotonic()
    speech.stop()
    assert long.wait(1.0) and long.interrupted
    assert time.monotonic() - started < 0.5  # of a 90 s text
    speech.realtime = False
    short = speech.say("Xin chào")
    assert short.wait(5) and short.state is UtteranceState.SPOKEN
    speech.close()


@needs_espeak
def test_interrupt_kills_the_player_process(tmp_path):
    pid_file = tmp_path / "player.pid"
    player = _stand_in(tmp_path, "player", f'echo $$ > {pid_file}\nexec sleep 30')
    speech = EspeakSpeech(output="alsa", player=[player], headphones="never")
    u = speech.say("Xin chào")
    deadline = time.monotonic() + 5
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = int(pid_file.read_text())
    started = time.monotonic()
    speech.say("Màn hình mới", interrupt=True)
    assert u.wait(1.5) and u.interrupted
    assert time.monotonic() - started < 1.0
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    speech.close()


@needs_espeak
def test_a_hung_player_times_out(tmp_path):
    player = _stand_in(tmp_path, "player", "exec sleep 30")
    speech = EspeakSpeech(output="alsa", player=[player], play_slack_s=0.2)
    started = time.monotonic()
    beep = speech.tone("digit")
    assert beep.wait(3) and isinstance(beep.error, DeviceTimeout)
    assert time.monotonic() - started < 1.5
    assert speech.status().health is Health.FAILED and speech.status().error_kind == "device_timeout"
    speech.close()


@needs_espeak
@pytest.mark.skipif(shutil.which("aplay") is None or Path("/proc/asound/cards").exists(),
                    reason="needs aplay and a machine without a sound card")
def test_alsa_without_a_sound_card_is_reported_gone():
    speech = EspeakSpeech(output="alsa")
    assert speech.status().error_kind == "device_gone"
    u = speech.say("Xin chào")
    assert u.wait(5) and u.state is UtteranceState.FAILED and isinstance(u.error, DeviceGone)
    speech.close()


def test_headphone_jack_read_through_amixer(tmp_path, monkeypatch):
    state = tmp_path / "jack"
    state.write_text("off")
    amixer = _stand_in(tmp_path, "amixer", f"""
case "$3" in
  controls) echo "numid=3,iface=CARD,name='Front Mic Jack'"; echo "numid=7,iface=CARD,name='Headphone Jack'";
            echo "numid=12,iface=MIXER,name='Master Playback Volume'";;
  cget) [ "$4" = "numid=7" ] || exit 1
        echo "numid=7,iface=CARD,name='Headphone Jack'"; echo "  ; type=BOOLEAN,access=r-------,values=1";
        echo "  : values=$(cat {state})";;
esac""")
    speech = EspeakSpeech(output="wav_dir", wav_dir=tmp_path, amixer=amixer, jack_cache_s=0)
    monkeypatch.setattr(speech, "_alsa_cards", lambda: ["0"])
    assert speech._jack_controls() == [("0", "7")]
    assert speech.headphones_connected() is False
    state.write_text("on")
    assert speech.headphones_connected() is True
    monkeypatch.setattr(speech, "_alsa_cards", lambda: [])  # no card, no jack: never speak personal data
    assert speech.headphones_connected() is False
    assert EspeakSpeech(output="wav_dir", wav_dir=tmp_path, headphones="always").headphones_connected()
    with pytest.raises(ValueError):
        EspeakSpeech(output="speaker")
    with pytest.raises(ValueError):
        EspeakSpeech(output="wav_dir")


def test_workers_do_not_leak_threads():
    before = threading.active_count()
    for _ in range(5):
        s = FakeSpeechOutput(time_scale=0.01)
        s.say("một")
        s.close()
    assert threading.active_count() <= before + 1
