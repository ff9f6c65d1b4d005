"""QR decoder benchmark on generated camera frames: the kiosk's decode_frame next to plain zxing-cpp and pyzbar.

Targets (issue 3): >= 95 % of frames decoded where a module spans >= 3 px (smaller ones reported apart),
no wrong payload, no code on frames without one, median <= 8 ms per frame (asserted on process CPU time,
which a busy shared machine does not inflate; wall time is printed too). Run: `make bench`
(or `.venv/bin/pytest -q -m bench -s tests/bench/test_bench_qr.py`). BENCH_QR_FRAMES sets the frame count.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from qrframes import Frame, make_frames  # noqa: E402

from drivers.qrdecode import decode_frame  # noqa: E402

FRAME_COUNT = int(os.environ.get("BENCH_QR_FRAMES", "300"))


def _plain_zxing(gray) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]


def _pyzbar(gray) -> list[str]:
    from pyzbar import pyzbar

    out = []
    for symbol in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        out.append(symbol.data.decode("utf-8", "replace"))
    return out


def _score(name: str, decoder: Callable, frames: list[Frame]) -> dict:
    times: list[float] = []
    cpu_times: list[float] = []
    stats = {"ok_big": 0, "n_big": 0, "ok_small": 0, "n_small": 0, "wrong": 0, "false": 0, "n_none": 0}
    for frame in frames:
        started, cpu_started = time.perf_counter(), time.process_time()
        codes = decoder(frame.gray)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
        if not frame.payloads:
            stats["n_none"] += 1
            stats["false"] += bool(codes)
            continue
        bucket = "big" if frame.module_px >= 3 else "small"
        stats[f"n_{bucket}"] += 1
        stats[f"ok_{bucket}"] += codes == frame.payloads
        stats["wrong"] += any(code not in frame.payloads for code in codes)
    times.sort()
    stats.update(name=name, median=statistics.median(times), p95=times[int(len(times) * 0.95) - 1],
                 cpu_median=statistics.median(cpu_times),
                 cpu_p95=sorted(cpu_times)[int(len(cpu_times) * 0.95) - 1])
    return stats


def _pct(ok: int, n: int) -> str:
    return f"{100 * ok / n:5.1f}% ({ok}/{n})" if n else "   n/a"


@pytest.mark.bench
def test_decoder_against_plain_zxing_and_pyzbar():
    frames = make_frames(FRAME_COUNT, seed=7)
    pytest.importorskip("pyzbar.pyzbar")
    rows = [_score(n, d, frames) for n, d in (("kiosk decode_frame", decode_frame),
                                               ("plain zxing-cpp", _plain_zxing),
                                               ("pyzbar (utf-8)", _pyzbar))]
    print(f"\n{len(frames)} frames 1280x720 grey; module >= 3 px: {rows[0]['n_big']}, "
          f"< 3 px: {rows[0]['n_small']}, no code: {rows[0]['n_none']}")
    print(f"{'decoder':<20} {'hit >=3px':>16} {'hit <3px':>16} {'wrong':>6} {'false+':>7} "
          f"{'median ms':>10} {'p95 ms':>8} {'cpu median':>11} {'cpu p95':>8}")
    for r in rows:
        print(f"{r['name']:<20} {_pct(r['ok_big'], r['n_big']):>16} {_pct(r['ok_small'], r['n_small']):>16} "
              f"{r['wrong']:>6} {r['false']:>7} {r['median']:>10.2f} {r['p95']:>8.2f} "
              f"{r['cpu_median']:>11.2f} {r['cpu_p95']:>8.2f}")
    ours = rows[0]
    assert ours["wrong"] == 0
    assert ours["false"] == 0
    assert ours["ok_big"] >= 0.95 * ours["n_big"]
    # CPU time, not wall time: the bench machine is shared, and wall time there measures the neighbours.
    assert ours["cpu_median"] <= 8.0


@pytest.mark.bench
def test_camera_login_latency(tmp_path):
    """From the moment a phone code enters the (video) camera's view to the read the session gets:
    capture pacing, newest-frame decoding and the two-sighting lock together."""
    import cv2
    import numpy as np

    from drivers.camera_reader import CameraReader

    from drivers.base import DeviceGone

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
    print(f"\ncamera login latency (code enters view -> read), 1280x720 MJPG at {fps:.0f} fps: "
          f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms, {len(latencies)}/5 read")
    assert len(latencies) >= 4
    assert statistics.median(latencies) < 500
