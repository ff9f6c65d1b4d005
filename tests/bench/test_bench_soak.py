"""Soak: 1,000 whole citizen sessions in one process of their own (the Session state machine with a ManualRunner, fake
scanner/printer/reader, the real outbox and a sandbox portal on loopback). Nothing may crash, every dossier
must reach the portal once (asserted); resident memory after the 1,000 sessions and its growth after a warm-up
(target: at most 20 MB) are reported, a miss marked in the report rather than failing the run.

`SOAK_SESSIONS` (default 1000) and `SOAK_WARMUP` (default 100) change the run length.
"""
from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared fixtures

from kiosk.session.machine import State  # noqa: E402
from portal_fixtures import portal_dossiers  # noqa: E402
from session_fixtures import build_kiosk  # noqa: E402
from kiosk.sandbox.server import start_sandbox  # noqa: E402

RSS_GROWTH_LIMIT_MB = 20.0


def rss_mb() -> float:
    """Resident set size now (not the peak): VmRSS from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def one_session(kiosk) -> None:
    """Attract -> ... -> done (receipt and ticket printed) -> rating -> attract, as a citizen would."""
    kiosk.to_rating()
    assert kiosk.data.delivered and kiosk.data.dossier_code, kiosk.data.error
    kiosk.send("rate", level=5)
    kiosk.runner.run_all()
    assert kiosk.state is State.ATTRACT


def soak(tmp_path: Path, sessions: int, warmup: int) -> dict:
    """The sessions, in this process; what was measured."""
    with start_sandbox(tmp_path / "portal.sqlite3") as sandbox:
        gc.collect()
        at_start = rss_mb()
        kiosk = build_kiosk(tmp_path, sandbox)
        try:
            durations, samples = [], []
            baseline = 0.0
            for i in range(sessions):
                started = time.perf_counter()
                one_session(kiosk)
                durations.append(time.perf_counter() - started)
                # The fake printer's "paper": it records every job for tests (~90 KB a session). A real roll
                # leaves the machine; keeping it would measure the fake, not the kiosk.
                kiosk.printer.mechanism.jobs.clear()
                if i + 1 == warmup:
                    gc.collect()
                    baseline = rss_mb()
                if (i + 1) % 100 == 0:
                    gc.collect()
                    samples.append((i + 1, round(rss_mb(), 1)))
            gc.collect()
            final = rss_mb()
            depth = kiosk.services.outbox.depth()
            delivered = len(portal_dossiers(sandbox))
        finally:
            kiosk.services.close()
            kiosk.services.portal.close()
    return {"durations": durations, "samples": samples, "at_start": at_start, "baseline": baseline,
            "final": final, "depth": depth, "delivered": delivered}


@pytest.mark.bench
def test_bench_soak_thousand_sessions(tmp_path, bench_report):
    """Run in a process of its own, so that its resident memory is the kiosk's (and the sandbox portal's), not
    that of the benchmarks run before it in the same pytest session (the QR frames alone hold gigabytes)."""
    sessions = int(os.environ.get("SOAK_SESSIONS", "1000"))
    warmup = min(int(os.environ.get("SOAK_WARMUP", "100")), sessions // 2)
    done = subprocess.run([sys.executable, __file__, str(tmp_path), str(sessions), str(warmup)],
                          capture_output=True, text=True, timeout=7200)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    durations, samples, baseline, final = r["durations"], r["samples"], r["baseline"], r["final"]
    assert r["depth"] == 0
    delivered = r["delivered"]
    growth = final - baseline
    print(f"\nsoak: {sessions} sessions, median {statistics.median(durations) * 1000:.0f} ms/session "
          f"(p95 {sorted(durations)[int(len(durations) * 0.95)] * 1000:.0f} ms), {delivered} dossiers on the portal; "
          f"RSS after {warmup} warm-up sessions {baseline:.1f} MB, at the end {final:.1f} MB, "
          f"growth {growth:+.1f} MB (limit {RSS_GROWTH_LIMIT_MB:.0f}); RSS every 100: {samples}")
    section = f"Soak ({sessions} sessions, {warmup} warm-up)"
    bench_report.add(section, "dossiers on the portal", delivered, "", f">= {sessions}")
    bench_report.add(section, "session, median", round(statistics.median(durations) * 1000), "ms")
    bench_report.add(section, "session, p95", round(sorted(durations)[int(len(durations) * 0.95)] * 1000), "ms")
    bench_report.add(section, f"resident memory after {sessions} sessions", round(final, 1), "MB", None, None,
                     f"{r['at_start']:.1f} MB before the first (a process of its own: the kiosk's session, "
                     "outbox and devices plus the sandbox portal)")
    bench_report.add(section, "RSS growth after warm-up", round(growth, 1), "MB", f"<= {RSS_GROWTH_LIMIT_MB:.0f}",
                     None, f"{baseline:.1f} -> {final:.1f} MB; every 100: " + ", ".join(f"{v}" for _, v in samples))
    assert delivered == sessions


if __name__ == "__main__":  # the soak's own process: python test_bench_soak.py TMPDIR SESSIONS WARMUP
    print(json.dumps(soak(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
