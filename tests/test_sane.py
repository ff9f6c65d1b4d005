"""SaneScanner against SANE's real `test` backend (libsane from Debian, config in tests/sane).

The backend offers a flatbed and a feeder that runs out after 10 pages; its `read-return-value` option
makes sane_read return any SANE status, and `read-delay` slows pages down so faults can land mid-batch.
Hangs and unplugs are simulated on the worker process itself (SIGSTOP, SIGKILL).
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sane", reason="python-sane not installed (the project's 'sane' extra)")

from drivers._sane_worker import MODE_NAMES, SOURCE_NAMES, SOURCE_WORDS, nearest_resolution, pick_choice  # noqa: E402
from drivers.base import (  # noqa: E402
    CoverOpen,
    DeviceBusy,
    DeviceError,
    DeviceGone,
    DeviceIOError,
    DeviceTimeout,
    Health,
    NoDocuments,
    PaperJam,
    ScannedPage,
    ScanSettings,
    ScanSource,
)
from drivers.sane_scanner import SaneScanner, list_devices  # noqa: E402

SANE_DIR = Path(__file__).parent / "sane"
SLOW_PAGES = {"read-delay": True, "read-delay-duration": 20000}  # about 0.08 s per 50-dpi page


@pytest.fixture(autouse=True)
def sane_test_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the `test` backend, only for these tests (workers inherit the environment when they start)."""
    monkeypatch.setenv("SANE_CONFIG_DIR", str(SANE_DIR))


@pytest.fixture
def make_scanner() -> Iterator[Callable[..., SaneScanner]]:
    made: list[SaneScanner] = []

    def make(device: str = "test:0", **kwargs) -> SaneScanner:
        scanner = SaneScanner(device, **kwargs)
        made.append(scanner)
        return scanner

    yield make
    for scanner in made:
        scanner.close()


def feeder(dpi: int = 50, max_pages: int = 50) -> ScanSettings:
    return ScanSettings(source=ScanSource.FEEDER, dpi=dpi, mode="gray", max_pages=max_pages)


def flatbed(dpi: int = 50, mode: str = "gray") -> ScanSettings:
    return ScanSettings(source=ScanSource.FLATBED, dpi=dpi, mode=mode)


# ----------------------------------------------------------------------------------------- discovery
def test_list_devices_finds_the_test_scanners() -> None:
    devices = list_devices(timeout=20)
    names = {d["name"] for d in devices}
    assert {"test:0", "test:1"} <= names
    assert all(d["vendor"] and d["model"] for d in devices)


def test_describe_reports_model_and_maps_our_sources_onto_the_devices(make_scanner) -> None:
    info = make_scanner().describe()
    assert info["model"] == "frontend-tester"
    assert info["sources"] == {"feeder": "Automatic Document Feeder", "flatbed": "Flatbed"}
    assert info["options"]["source"]["constraint"] == ["Flatbed", "Automatic Document Feeder"]
    assert "resolution" in info["options"]


def test_missing_device_is_reported_gone_by_status_and_scan(make_scanner) -> None:
    scanner = make_scanner("test:9")
    status = scanner.status()
    assert status.health is Health.FAILED and status.error_kind == "device_gone"
    with pytest.raises(DeviceGone):
        scanner.scan(flatbed())


# ----------------------------------------------------------------------------------------- scanning
def test_flatbed_a4_page_at_150_dpi_has_a4_proportions(make_scanner) -> None:
    scanner = make_scanner(options={"test-picture": "Grid"})
    assert scanner.status().health is Health.OK
    pages = scanner.scan(flatbed(dpi=150))
    assert len(pages) == 1
    image = pages[0].image
    assert pages[0].dpi == 150 and image.mode == "L"
    assert image.width / 150 == pytest.approx(210 / 25.4, abs=0.05)
    assert image.height / image.width == pytest.approx(297 / 210, rel=0.01)
    pixels = np.asarray(image)
    assert pixels.min() < 64 and pixels.max() > 192  # the grid really came through, not a blank buffer


def test_colour_and_lineart_give_the_modes_asked_for(make_scanner) -> None:
    scanner = make_scanner(options={"test-picture": "Color pattern"})
    colour = scanner.scan(flatbed(mode="color"))[0].image
    assert colour.mode == "RGB"
    rgb = np.asarray(colour, dtype=np.int16)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).max() > 100  # real colours, not grey in three channels
    lineart = scanner.scan(flatbed(mode="lineart"))[0].image
    assert lineart.mode == "1"


def test_feeder_batch_arrives_page_by_page_and_ends_cleanly_after_ten(make_scanner) -> None:
    scanner = make_scanner(options=SLOW_PAGES)
    arrivals: list[tuple[float, ScannedPage]] = []
    start = time.monotonic()
    pages = scanner.scan(feeder(), on_page=lambda p: arrivals.append((time.monotonic() - start, p)))
    finished = time.monotonic() - start
    # "Document feeder out of documents" after the 10th page is the end of the batch, not an error.
    assert len(pages) == 10
    assert [p.index for _, p in arrivals] == list(range(10))
    assert [p for _, p in arrivals] == pages
    assert arrivals[0][0] < finished - 0.3  # the first preview came long before the last page
    # The feeder is empty now: the backend reloads it, and the next batch works the same way.
    scanner.options = {"read-delay": False}
    assert len(scanner.scan(feeder())) == 10


def test_max_pages_stops_the_feeder_and_the_scanner_stays_usable(make_scanner) -> None:
    scanner = make_scanner()
    assert len(scanner.scan(feeder(max_pages=3))) == 3
    assert len(scanner.scan(flatbed())) == 1


def test_close_after_a_cut_short_batch_ends_the_worker_cleanly(make_scanner) -> None:
    """The batch stopped at max_pages leaves a started feeder; close() must cancel it, or libsane can
    crash the worker at exit (a crash here would be a negative return code)."""
    scanner = make_scanner()
    scanner.scan(feeder(max_pages=2))
    process = scanner._worker.process  # noqa: SLF001 - the exit status is only visible here
    scanner.close()
    assert process.returncode == 0
    assert scanner.worker_pid is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("SANE_STATUS_JAMMED", PaperJam),
        ("SANE_STATUS_NO_DOCS", NoDocuments),
        ("SANE_STATUS_COVER_OPEN", CoverOpen),
        ("SANE_STATUS_DEVICE_BUSY", DeviceBusy),
        ("SANE_STATUS_IO_ERROR", DeviceIOError),
    ],
)
def test_sane_status_codes_map_to_our_errors(make_scanner, status: str, error: type[DeviceError]) -> None:
    scanner = make_scanner(timeout=5.0, options={"read-return-value": status})
    with pytest.raises(error) as caught:
        scanner.scan(feeder())
    assert caught.value.pages == []  # nothing came before the failure
    scanner.options = {"read-return-value": "Default"}  # the fault is cleared: the scanner works again
    assert len(scanner.scan(flatbed())) == 1


def test_unknown_device_option_is_an_error_not_ignored(make_scanner) -> None:
    scanner = make_scanner(options={"no-such-option": 1})
    with pytest.raises(DeviceError) as caught:
        scanner.scan(flatbed())
    assert caught.value.kind == "device_error"


# ----------------------------------------------------------------------------------------- hangs, unplugs
def test_hung_worker_times_out_is_killed_and_the_next_scan_works(make_scanner) -> None:
    scanner = make_scanner(timeout=1.0)
    assert len(scanner.scan(flatbed())) == 1
    assert scanner.status().health is Health.OK  # a round trip: the worker has finished and is idle
    hung_pid = scanner.worker_pid
    assert hung_pid is not None
    os.kill(hung_pid, signal.SIGSTOP)  # the backend stops answering, like a USB transfer that never ends
    start = time.monotonic()
    with pytest.raises(DeviceTimeout):
        scanner.scan(feeder())
    assert 0.9 <= time.monotonic() - start < 4.0
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)  # killed and reaped, not left stopped
    assert len(scanner.scan(flatbed())) == 1
    assert scanner.worker_pid not in (None, hung_pid)


def test_worker_killed_mid_batch_fails_fast_and_keeps_pages(make_scanner) -> None:
    scanner = make_scanner(timeout=30.0, options=SLOW_PAGES)

    def unplug_after_first(page: ScannedPage) -> None:
        if page.index == 0:
            os.kill(scanner.worker_pid, signal.SIGKILL)

    start = time.monotonic()
    with pytest.raises((DeviceGone, DeviceIOError)) as caught:
        scanner.scan(feeder(), on_page=unplug_after_first)
    assert time.monotonic() - start < 5.0  # far below the 30 s timeout: death is noticed at once
    assert 1 <= len(caught.value.pages) < 10
    assert len(scanner.scan(flatbed())) == 1


def test_per_scan_timeout_overrides_the_scanner_default(make_scanner) -> None:
    scanner = make_scanner(timeout=60.0)
    scanner.scan(flatbed())
    scanner.status()  # the worker is idle after this round trip
    os.kill(scanner.worker_pid, signal.SIGSTOP)
    start = time.monotonic()
    with pytest.raises(DeviceTimeout):
        scanner.scan(flatbed(), timeout=0.5)
    assert time.monotonic() - start < 3.0


def test_a_failing_preview_callback_does_not_leave_stale_pages_for_the_next_scan(make_scanner) -> None:
    scanner = make_scanner(options=SLOW_PAGES)

    def broken_preview(page: ScannedPage) -> None:
        raise RuntimeError("preview widget failed")

    with pytest.raises(RuntimeError):
        scanner.scan(feeder(), on_page=broken_preview)
    pages = scanner.scan(flatbed(dpi=60))
    assert len(pages) == 1 and pages[0].dpi == 60  # the flatbed page, not a leftover feeder page


def test_status_during_a_scan_answers_at_once_without_disturbing_it(make_scanner) -> None:
    scanner = make_scanner(options=SLOW_PAGES)
    answers: list[tuple[float, Health]] = []

    def ask_status(page: ScannedPage) -> None:
        if page.index == 0:
            start = time.monotonic()
            answers.append((time.monotonic() - start, scanner.status().health))

    # status() is called from the scanning thread here, the worst case: it must not wait for the lock.
    pages = scanner.scan(feeder(max_pages=3), on_page=ask_status)
    assert len(pages) == 3
    assert answers and answers[0][0] < 0.1 and answers[0][1] is Health.OK


# ----------------------------------------------------------------------------------------- name mapping
@pytest.mark.parametrize(
    ("choices", "ours", "expected"),
    [
        (["Flatbed", "Automatic Document Feeder"], "feeder", "Automatic Document Feeder"),
        (["ADF Front", "ADF Back", "ADF Duplex"], "feeder", "ADF Front"),  # Fujitsu fi series
        (["FlatBed", "Automatic Document Feeder(left aligned)"], "feeder",
         "Automatic Document Feeder(left aligned)"),  # Brother
        (["Flatbed", "ADF", "Duplex"], "feeder", "ADF"),  # HP hpaio
        (["Flatbed", "ADF", "Duplex"], "flatbed", "Flatbed"),
        (["ADF Front", "ADF Duplex"], "flatbed", None),  # a feeder-only scanner has no glass
    ],
)
def test_source_names_of_real_backends_are_recognised(choices, ours, expected) -> None:
    assert pick_choice(ours, choices, SOURCE_NAMES, SOURCE_WORDS) == expected


def test_mode_names_and_resolutions_snap_to_what_the_device_offers() -> None:
    assert pick_choice("gray", ["Lineart", "Halftone", "Gray", "Color"], MODE_NAMES) == "Gray"
    assert pick_choice("lineart", ["Black & White", "Grayscale", "24bit Color"], MODE_NAMES) == "Black & White"
    assert pick_choice("color", ["Lineart", "Gray"], MODE_NAMES) is None
    assert nearest_resolution(200, [75, 150, 300, 600]) == 150
    assert nearest_resolution(200, (50.0, 1200.0, 1.0)) == 200
    assert nearest_resolution(2400, (50.0, 600.0, 0.0)) == 600
