"""QR decoder benchmark on generated camera frames (tests/bench/qrframes.py): the kiosk's decode_frame next to
plain zxing-cpp, pyzbar, OpenCV's QRCodeDetector and its Aruco variant, on the TUNING set and on the HELD-OUT
set (its own seed and generator; see the tuning rule in qrframes' docstring), overall and per bucket.

Nothing here fails the run on a missed target: every figure, misses included, goes to the report (a miss
reads **NO** there); `make bench` exits 0 once it has written the report.

Targets (issue 13): >= 95 % of frames decoded where a module spans >= 3 px, >= 85 % of all frames with a code,
no wrong payload, no code on frames without one, median <= 8 ms per frame of process CPU time (which a busy
shared machine inflates far less than wall time; wall time is reported too). Also the time from a code
entering the view to a locked read (`QrLock`) on short slide-in sequences. Everything goes to the bench
report (out/bench/report.md). Targets are reported, not asserted.

Run: `make bench`, or `.venv/bin/pytest -q -m bench -s tests/bench/test_bench_qr.py`. BENCH_QR_FRAMES sets
the frame count per set (default 300); BENCH_QR_SETS=tuning runs the tuning set alone (while tuning);
BENCH_QR_PEERS=zxing runs plain zxing-cpp alone next to ours (the other peers are slow).
"""
from __future__ import annotations

import functools
import os
import statistics
import sys
import time
from pathlib import Path
from collections.abc import Callable

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from qrframes import PROFILES, Frame, make_frames, slide_in_sequence  # noqa: E402

from drivers.qrdecode import QrLock, QrTracker, decode_frame  # noqa: E402

FRAME_COUNT = int(os.environ.get("BENCH_QR_FRAMES", "300"))
SETS = [s for s in os.environ.get("BENCH_QR_SETS", "tuning,heldout").split(",") if s]
LOCK_SEQUENCES = int(os.environ.get("BENCH_QR_SEQUENCES", "40"))
# BENCH_QR_PEERS: the peers to run next to ours, by name prefix (comma-separated; "zxing" runs plain zxing-cpp
# alone, "none" no peer); all of them by default. pyzbar and OpenCV's detectors are slow: leave them out while tuning.
PEERS = os.environ.get("BENCH_QR_PEERS", "")


def _wanted(name: str) -> bool:
    return name.startswith("ours") or not PEERS or any(name.startswith(p) for p in PEERS.split(",") if p)


# ---------------------------------------------------------------------------------------------- peers
def _plain_zxing(image) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pyzbar(image) -> list[str]:
    from pyzbar import pyzbar

    return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])]


@functools.cache
def _cv_detector(aruco: bool):
    import cv2

    return cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()


def _opencv(image, aruco: bool = False) -> list[str]:
    ok, decoded, _, _ = _cv_detector(aruco).detectAndDecodeBytesMulti(image)
    return [bytes(d).decode("utf-8", "replace") for d in (decoded if ok else []) if len(d)]


DECODERS: dict[str, Callable] = {
    "ours": decode_frame,
    # the same cascade held to the median target as its per-frame budget: what meeting it that way would cost
    "ours, 8 ms budget": functools.partial(decode_frame, budget_s=0.008),
    "zxing-cpp plain": _plain_zxing,
    "pyzbar": _pyzbar,
    "OpenCV QRCodeDetector": _opencv,
    "OpenCV Aruco": functools.partial(_opencv, aruco=True),
}


@functools.cache
def frames_of(profile: str) -> tuple[Frame, ...]:
    return tuple(make_frames(FRAME_COUNT, profile=profile))


# ---------------------------------------------------------------------------------------------- scoring
def buckets_of(frame: Frame) -> list[str]:
    """The buckets a frame with a code counts in (besides 'all')."""
    c, m = frame.conditions, frame.module_px
    out = [f"kind {frame.kind}", "module " + ("< 3 px" if m < 3 else "3-5 px" if m < 5 else ">= 5 px"),
           "blur sigma " + ("<= 1.2" if c["blur_sigma"] <= 1.2 else "> 1.2"),
           "tilt " + ("< 0.1" if c["tilt"] < 0.1 else "0.1-0.2" if c["tilt"] < 0.2 else ">= 0.2"),
           f"rotation {int(c['rotation'] // 90) * 90}-{int(c['rotation'] // 90) * 90 + 90} deg",
           "contrast " + ("< 0.35" if c["contrast"] < 0.35 else ">= 0.35"),
           "jpeg q " + ("55-70" if c["jpeg_q"] <= 70 else "71-85" if c["jpeg_q"] <= 85 else "86-95"),
           "colour BGR" if c["colour"] else "grey", f"size {c['size']}",
           "motion blur" if c["motion_px"] else "no motion blur", "glare" if c["glare"] else "no glare",
           f"defocus {c.get('defocus', 'gauss')}" + (" sigma > 1.2" if c["blur_sigma"] > 1.2 else ""),
           "light-on-dark code" if c["inverted"] else "dark-on-light code"]
    if 3 <= m < 5 and c["blur_sigma"] > 1.2:
        out.append("3-5 px and blur sigma > 1.2")
    return out


def score(decoder: Callable, frames) -> dict:
    cpu, wall, per_frame = [], [], []
    for frame in frames:
        w0, c0 = time.perf_counter(), time.process_time()
        codes = decoder(frame.image)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        per_frame.append((frame, codes))
    coded = [(f, c) for f, c in per_frame if f.payloads]
    big = [(f, c) for f, c in coded if f.module_px >= 3]
    result = {
        "big": 100 * sum(c == f.payloads for f, c in big) / max(len(big), 1), "n_big": len(big),
        "all": 100 * sum(c == f.payloads for f, c in coded) / max(len(coded), 1), "n_all": len(coded),
        "wrong": sum(any(x not in f.payloads for x in c) for f, c in coded),
        "false": sum(bool(c) for f, c in per_frame if not f.payloads),
        "n_none": sum(not f.payloads for f, _ in per_frame),
        "cpu_median": statistics.median(cpu), "cpu_p95": float(np.percentile(cpu, 95)),
        "wall_median": statistics.median(wall), "buckets": {},
    }
    tally: dict[str, list[int]] = {}
    for f, c in coded:
        for name in buckets_of(f):
            if f.module_px < 3 and not name.startswith("module"):
                continue  # buckets other than module size count the >= 3 px frames, as the target does
            t = tally.setdefault(name, [0, 0])
            t[0] += c == f.payloads
            t[1] += 1
    result["buckets"] = {k: (100 * ok / n, n) for k, (ok, n) in sorted(tally.items())}
    return result


def _print_table(profile: str, scores: dict[str, dict]) -> None:
    print(f"\n{profile} set: {FRAME_COUNT} frames; module >= 3 px: {scores['ours']['n_big']}, "
          f"with a code: {scores['ours']['n_all']}, without: {scores['ours']['n_none']}")
    print(f"{'decoder':<22} {'>=3px %':>8} {'all %':>7} {'wrong':>6} {'false+':>7} {'cpu med':>8} "
          f"{'cpu p95':>8} {'wall med':>9}")
    for name, r in scores.items():
        print(f"{name:<22} {r['big']:>8.1f} {r['all']:>7.1f} {r['wrong']:>6} {r['false']:>7} "
              f"{r['cpu_median']:>8.2f} {r['cpu_p95']:>8.2f} {r['wall_median']:>9.2f}")
    print(f"{'bucket (>= 3 px unless module)':<34} {'n':>4} " + " ".join(f"{n[:10]:>10}" for n in scores))
    for bucket, (_, n) in scores["ours"]["buckets"].items():
        print(f"{bucket:<34} {n:>4} " + " ".join(f"{scores[d]['buckets'][bucket][0]:>10.1f}" for d in scores))


@pytest.mark.bench
@pytest.mark.parametrize("profile", ["tuning", "heldout"])
def test_decoder_on_camera_frames(profile, bench_report):
    if profile not in SETS:
        pytest.skip(f"BENCH_QR_SETS leaves out the {profile} set")
    pytest.importorskip("pyzbar.pyzbar")
    frames = frames_of(profile)
    scores = {name: score(decoder, frames) for name, decoder in DECODERS.items() if _wanted(name)}
    _print_table(profile, scores)
    ours, peers = scores["ours"], {n: s for n, s in scores.items() if n != "ours"}

    section = f"QR camera frames, {profile} set ({len(frames)} frames, seed {PROFILES[profile].seed})"
    note_big = f"{ours['n_big']} frames"
    for key, name, unit, target, note in (
            ("big", "decoded, modules >= 3 px", "%", ">= 95", note_big),
            ("all", "decoded, all frames with a code", "%", ">= 85", f"{ours['n_all']} frames"),
            ("wrong", "wrong payloads", "", "== 0", ""),
            ("false", "false positives (frames without a code)", "", "== 0", f"{ours['n_none']} frames"),
            ("cpu_median", "median per frame, process CPU", "ms", "<= 8", ""),
            ("cpu_p95", "p95 per frame, process CPU", "ms", None, "ours: capped by the 30 ms budget"),
            ("wall_median", "median per frame, wall", "ms", None, "shared machine")):
        bench_report.add(section, name, round(ours[key], 2), unit, target,
                         {n: round(s[key], 2) for n, s in peers.items()}, note)
    bucket_section = f"QR by bucket, {profile} set (decoded %, modules >= 3 px unless a module bucket)"
    for bucket, (rate, n) in ours["buckets"].items():
        bench_report.add(bucket_section, bucket, round(rate, 1), "%", None,
                         {name: round(s["buckets"][bucket][0], 1) for name, s in peers.items()}, f"n={n}")



# ---------------------------------------------------------------------------------------------- time to lock
def time_to_lock(sequence, entered: int, decode: Callable, fps: float = 30.0):
    """Replays a slide-in sequence the way the camera reader decodes it: the decoder takes the newest frame,
    spends its (CPU) decode time, and takes the newest frame again; a 30 fps camera keeps delivering
    meanwhile. Returns (ms from the first frame showing the whole code to the lock, locked payloads), or
    (None, []) when the sequence ended first."""
    length = len(sequence)
    lock, clock = QrLock(), 0.0
    while True:
        index = min(int(clock * fps + 1e-9), length - 1)
        started = time.process_time()
        codes = decode(sequence[index])
        clock += time.process_time() - started
        locked = lock.feed(codes, now=clock)
        if locked:
            return (clock - entered / fps) * 1000, locked
        if index == length - 1:
            return None, []
        clock = max(clock, (index + 1) / fps)


# sequence decoders: a factory per sequence (the tracker keeps state within one sequence only)
LOCK_DECODERS: dict[str, Callable[[], Callable]] = {
    "ours": lambda: QrTracker().decode,
    "ours, no tracking": lambda: decode_frame,
    "zxing-cpp plain": lambda: _plain_zxing,
}


@pytest.mark.bench
@pytest.mark.parametrize("profile", ["tuning", "heldout"])
def test_time_from_code_in_view_to_lock(profile, bench_report):
    if profile not in SETS:
        pytest.skip(f"BENCH_QR_SETS leaves out the {profile} set")
    rng = np.random.default_rng(PROFILES[profile].seed + 1)
    candidates = [f for f in frames_of(profile) if f.payloads and f.module_px >= 3][:LOCK_SEQUENCES]
    sequences = []
    for frame in candidates:  # 10-30 frames, the code sliding in after 2-6
        length, enter = int(rng.integers(10, 31)), int(rng.integers(2, 7))
        sequences.append((frame, *slide_in_sequence(frame, length, rng, enter)))
    results = {}
    for name, factory in ((n, f) for n, f in LOCK_DECODERS.items() if _wanted(n)):
        times, wrong = [], 0
        for frame, sequence, entered in sequences:
            ms, locked = time_to_lock(sequence, entered, factory())
            bad = any(p not in frame.payloads for p in locked)
            wrong += bad
            if ms is not None and not bad:
                times.append(ms)
        results[name] = {
            "median": round(statistics.median(times)) if times else float("nan"),
            "p95": round(float(np.percentile(times, 95))) if times else float("nan"),
            "locked": round(100 * len(times) / max(len(sequences), 1), 1), "wrong": wrong}
        print(f"\ntime to lock, {profile} set, {name}: {len(times)}/{len(sequences)} sequences locked, "
              f"median {results[name]['median']} ms, p95 {results[name]['p95']} ms, wrong locks {wrong}")
    ours, peers = results["ours"], {n: r for n, r in results.items() if n != "ours"}
    section = ("QR time from code in view to locked read (30 fps, 10-30 frame slide-in sequences, 2 sightings; "
               "process CPU time as the decode time)")
    for key, label, unit, target, note in (
            ("median", "median", "ms", None, f"locked sequences of {len(sequences)} (modules >= 3 px)"),
            ("p95", "p95", "ms", None, ""),
            ("locked", "sequences locked", "%", None, f"of {len(sequences)}"),
            ("wrong", "wrong locks", "", "== 0", "")):
        bench_report.add(section, f"{profile}: {label}", ours[key], unit, target,
                         {n: r[key] for n, r in peers.items()}, note)


@pytest.mark.bench
def test_camera_login_latency(tmp_path, bench_report):
    """From the moment a phone code enters the (video) camera's view to the read the session gets:
    capture pacing, newest-frame decoding and the two-sighting lock together."""
    import cv2

    from drivers.base import DeviceGone
    from drivers.camera_reader import CameraReader

    fps, lead_in, latencies = 30.0, 15, []
    # Frames the decoder reads as stills: this measures latency, the hit rate is measured above.
    stills = (f for f in make_frames(40, seed=3) if f.payloads and decode_frame(f.gray) == f.payloads)
    for seed, with_code in zip(range(5), stills, strict=False):
        empty = np.full_like(with_code.gray, int(np.median(with_code.gray)))
        path = tmp_path / f"login{seed}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, empty.shape[::-1])
        for index in range(lead_in + 45):
            frame = with_code.gray if index >= lead_in else empty
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        writer.release()
        reader = CameraReader(str(path), loop_file=False)
        reader.start()
        started = time.monotonic()
        try:
            read = reader.read(timeout=5)
        except DeviceGone:  # the video ended without a read
            read = None
        finally:
            reader.stop()
        if read is not None and read.text == with_code.payloads[0]:
            latencies.append((time.monotonic() - started - lead_in / fps) * 1000)
    median = statistics.median(latencies) if latencies else float("nan")
    worst = max(latencies) if latencies else float("nan")
    print(f"\ncamera login latency (code enters view -> read), MJPG video at {fps:.0f} fps: "
          f"median {median:.0f} ms, max {worst:.0f} ms, {len(latencies)}/5 read")
    bench_report.add("QR camera reader end to end (MJPG video file as the camera)", "code enters view -> read, median",
                     round(median) if latencies else median, "ms", "< 500", None,
                     f"wall time, {len(latencies)}/5 read, max {worst:.0f} ms")


@pytest.mark.bench
def test_focus_help_on_codes_held_out_of_focus(bench_report):
    """A code held where the camera's own autofocus does not focus (it rests at far focus: 5-10 px of blur at
    the code): time from the code entering the view to the locked read, with the focus help (drivers/
    camera_focus.py, on the fake lens camera) and without. Frames are tuning frames drawn sharp (the lens
    adds the blur), modules >= 3 px; 30 fps, 5 s per try, default decode budget."""
    from drivers.camera_focus import FocusAssist, probe
    from drivers.fakes.camera import FakeLensCamera
    from qrframes import make_frame

    sharp = [f for f in (make_frame(9_000 + i, blur_sigma=0.0) for i in range(40))
             if f.payloads and f.module_px >= 3][:int(os.environ.get("BENCH_FOCUS_TRIES", "6"))]
    rng = np.random.default_rng(11)
    results: dict[str, list[float | None]] = {"with focus help": [], "camera autofocus alone": []}
    for frame in sharp:
        in_focus = float(rng.uniform(120, 250))
        empty = np.full_like(frame.gray, int(np.median(frame.gray)))
        for name in results:
            camera = FakeLensCamera(lambda i, f=frame, e=empty: f.gray if i >= 10 else e, in_focus_at=in_focus,
                                    autofocus=True, autofocus_settles_at=0.0, seed=int(in_focus))
            assist = FocusAssist(camera, probe(camera)) if name == "with focus help" else None
            tracker, lock, read_at = QrTracker(), QrLock(), None
            for i in range(150):
                ok, image = camera.read()
                now = i / 30
                codes = tracker.decode(image)
                if assist is not None:
                    assist.feed(image, bool(codes), now)
                locked = lock.feed(codes, now=now)
                assert all(p in frame.payloads for p in locked), "a wrong payload locked"
                if locked:
                    read_at = now - 10 / 30
                    break
            results[name].append(read_at)
    section = "Camera focus help (fake lens camera: autofocus rests at far focus, the code 5-10 px out of focus)"
    for name, times in results.items():
        got = [t for t in times if t is not None]
        median = round(statistics.median(got), 2) if got else float("nan")
        print(f"\nfocus help, {name}: {len(got)}/{len(times)} read, median {median} s")
        bench_report.add(section, f"{name}: codes read within 5 s", round(100 * len(got) / len(times), 1), "%",
                         None, None, f"of {len(times)} codes")
        bench_report.add(section, f"{name}: median time from the code in view to the read", median, "s")
