"""Crash proof of the outbox: a kiosk process (tests/chaos_worker.py) is SIGKILLed at random points and
restarted on the same data folder, against a sandbox portal in this process that loses answers and drops
connections. Afterwards the portal must hold exactly the dossiers the kiosk said it had received, each once,
with byte-identical documents, and the kiosk's disk must hold no document any more.

Kill points:
  timer          at a random moment of the worker's life (start-up, login, packing, sending...)
  mid-write      right after the worker announced it is about to enqueue (inside the fsyncs)
  mid-upload     from inside the portal, as a document upload (or one part of a resumable one) comes in
  after-commit   from inside the portal, after it committed a dossier and before its answer left

The first chance at each of the last three always kills (each window is hit in every run); later ones are
random. The default run is short (25 confirmed dossiers); `make chaos` runs the slow one (200).
"""
from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chaos_worker import documents_for
from kiosk.sandbox.faults import FaultConfig
from kiosk.sandbox.server import SandboxHandle, start_sandbox

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("chaos_worker.py")
DELIVERY_PATHS = ("/api/v1/blobs", "/api/v1/dossiers")


@dataclass
class ChaosReport:
    intents: set[str] = field(default_factory=set)
    enqueued: set[str] = field(default_factory=set)
    kills: collections.Counter = field(default_factory=collections.Counter)
    generations: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        kills = ", ".join(f"{k} {v}" for k, v in sorted(self.kills.items()))
        return (f"{len(self.enqueued)} confirmed dossiers ({len(self.intents)} started), {self.generations} worker "
                f"processes, {sum(self.kills.values())} SIGKILLs ({kills}), {self.seconds:.1f} s")


class Chaos:
    """Owns the current worker process and kills it on request, from any thread (the portal's included)."""

    def __init__(self, sandbox: SandboxHandle, seed: int, *, p_write: float, p_upload: float, p_commit: float,
                 life: float):
        self.sandbox, self.rng = sandbox, random.Random(seed)
        self.p_write, self.p_upload, self.p_commit, self.life = p_write, p_upload, p_commit, life
        self.report = ChaosReport()
        self.armed = True
        self.unforced = {"mid-write", "mid-upload", "after-commit"}
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._install_portal_hooks()

    def chance(self, kind: str, p: float) -> bool:
        """Whether to kill at this point. The first chance of each kind always kills, so every window is
        hit at least once however the dice fall; after that, with probability `p`."""
        with self._lock:
            if not self.armed:
                return False
            if kind in self.unforced:
                self.unforced.discard(kind)
                return True
            return self.rng.random() < p

    def kill(self, why: str, target: subprocess.Popen | None = None) -> None:
        """SIGKILL the current worker (only if it is still `target`, when given: a late timer must not kill
        the next generation)."""
        with self._lock:
            proc = self._proc
            if proc is None or proc.returncode is not None or not self.armed or target not in (None, proc):
                return
            try:
                proc.send_signal(9)  # SIGKILL: no clean-up, no flush, like a power cut for the process
            except ProcessLookupError:
                return
            self.report.kills[why] += 1

    def _install_portal_hooks(self) -> None:
        store = self.sandbox.store
        real_submit, real_writer = store.submit, store.open_blob_writer

        def submit(*args, **kwargs):
            receipt = real_submit(*args, **kwargs)  # committed
            if self.chance("after-commit", self.p_commit):
                self.kill("after-commit")  # ...and the kiosk never sees the answer
            return receipt

        def open_blob_writer():
            if self.chance("mid-upload", self.p_upload):
                self.kill("mid-upload")
            return real_writer()

        real_append = store.append_part

        def append_part(*args, **kwargs):
            if self.chance("mid-upload", self.p_upload):
                self.kill("mid-upload")  # between parts of a resumable upload
            return real_append(*args, **kwargs)

        store.submit, store.open_blob_writer, store.append_part = submit, open_blob_writer, append_part

    def run_generation(self, data_dir: Path, target: int, stderr_path: Path) -> None:
        gen = self.report.generations
        self.report.generations += 1
        with open(stderr_path, "ab") as err:
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), "--data", str(data_dir), "--portal", self.sandbox.url,
                 "--generation", str(gen)], cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)
        with self._lock:
            self._proc = proc
        timer = threading.Timer(self.rng.uniform(0.05, self.life), self.kill, args=("timer", proc))
        try:
            for line in proc.stdout:
                word, *rest = line.split()
                if word == "READY":
                    timer.start()  # counted from here: start-up is the same every time, the work is not
                elif word == "INTENT":
                    self.report.intents.add(rest[0])
                    if self.chance("mid-write", self.p_write):
                        threading.Timer(self.rng.uniform(0, 0.01), self.kill, args=("mid-write", proc)).start()
                elif word == "ENQUEUED":
                    self.report.enqueued.add(rest[0])
                    if len(self.report.enqueued) >= target:
                        self.kill("end")
        finally:
            timer.cancel()
            proc.wait(timeout=30)
            proc.stdout.close()
        assert proc.returncode == -9, (f"worker generation {gen} exited with {proc.returncode} instead of being "
                                       f"killed; see {stderr_path}:\n{stderr_path.read_text()[-3000:]}")

    def drain(self, data_dir: Path, stderr_path: Path) -> str:
        with self._lock:
            self.armed = False
        self.sandbox.set_faults(None)
        with open(stderr_path, "ab") as err:
            done = subprocess.run([sys.executable, str(WORKER), "--data", str(data_dir), "--portal", self.sandbox.url,
                                   "--drain"], cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True, timeout=120)
        assert done.returncode == 0, f"drain failed: {done.stdout}\n{stderr_path.read_text()[-3000:]}"
        return done.stdout


def run_chaos(tmp_path: Path, *, target: int, seed: int) -> ChaosReport:
    data_dir = tmp_path / "kiosk-data"
    stderr_path = tmp_path / "worker.stderr"
    faults = FaultConfig(fail_rate=0.15, modes=("lose_response", "lose_response", "reset", "500"),
                         paths=DELIVERY_PATHS, latency_ms=10, seed=seed)
    with start_sandbox(tmp_path / "portal.sqlite3", faults=faults) as sandbox:
        chaos = Chaos(sandbox, seed, p_write=0.06, p_upload=0.025, p_commit=0.12, life=5.0)
        started = time.monotonic()
        while len(chaos.report.enqueued) < target:
            chaos.run_generation(data_dir, target, stderr_path)
            assert chaos.report.generations < target * 10, "the worker makes no progress: " + chaos.report.summary()
        assert "DRAINED 0" in chaos.drain(data_dir, stderr_path)
        chaos.report.seconds = time.monotonic() - started
        lost_answers = sandbox.faults.injected.get("lose_response", 0)
        print(f"\nchaos: {chaos.report.summary()}; portal lost {lost_answers} answers on purpose")
        check_portal_holds_exactly_the_confirmed(sandbox, chaos.report)
        check_kiosk_disk_is_clean(data_dir, sandbox, chaos.report)
    return chaos.report


def check_portal_holds_exactly_the_confirmed(sandbox: SandboxHandle, report: ChaosReport) -> None:
    dossiers = sandbox.store.all_dossiers()
    counts = collections.Counter(d["local_reference"] for d in dossiers)
    duplicates = {ref: n for ref, n in counts.items() if n > 1}
    assert not duplicates, f"stored more than once: {duplicates}"
    missing = report.enqueued - counts.keys()
    assert not missing, f"confirmed but lost: {sorted(missing)} ({report.summary()})"
    invented = counts.keys() - report.intents
    assert not invented, f"the portal holds dossiers nobody submitted: {sorted(invented)}"
    for d in dossiers:
        expected = documents_for(d["local_reference"])
        assert [(doc["component"], doc["size"], doc["pages"]) for doc in d["documents"]] == \
            [(c, len(b), p) for c, b, p in expected], d["local_reference"]
        for doc, (_, data, _) in zip(d["documents"], expected, strict=True):
            assert sandbox.store.blob_path(doc["sha256"]).read_bytes() == data, (d["local_reference"], doc["component"])


def check_kiosk_disk_is_clean(data_dir: Path, sandbox: SandboxHandle, report: ChaosReport) -> None:
    from kiosk.outbox.store import DELIVERED, Outbox

    codes = {d["local_reference"]: d["dossier_code"] for d in sandbox.store.all_dossiers()}
    with Outbox(data_dir) as outbox:
        items = outbox.items()
        assert items and all(it.state == DELIVERED for it in items)
        # The kiosk's reference maps to the very code the portal gave (receipt QR look-ups rely on it).
        assert {it.ref: it.dossier_code for it in items} == {ref: codes[ref] for ref in (it.ref for it in items)}
        assert report.enqueued <= {it.ref for it in items}
    leftovers = [p.name for p in (data_dir / "outbox-blobs").iterdir()]
    assert leftovers == [], f"documents left on the kiosk after delivery: {leftovers[:5]}"


def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path):
    report = run_chaos(tmp_path, target=25, seed=int(os.environ.get("CHAOS_SEED", "5")))
    assert {"mid-write", "mid-upload", "after-commit"} <= report.kills.keys(), report.summary()


@pytest.mark.slow
def test_sigkill_chaos_200_submissions(tmp_path):
    report = run_chaos(tmp_path, target=200, seed=int(os.environ.get("CHAOS_SEED", "2026")))
    assert {"timer", "mid-write", "mid-upload", "after-commit"} <= report.kills.keys(), report.summary()
