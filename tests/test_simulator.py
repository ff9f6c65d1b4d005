"""The demo's "Mô phỏng" hooks exist only over fake devices: a kiosk with real devices cannot fake a citizen."""
from __future__ import annotations

from drivers import registry
from drivers.base import ScanSettings, ScanSource
from drivers.fakes.reader import FakeCodeReader
from drivers.fakes.scanner import FakeScanner
from drivers.fakes.simulator import TEST_VNEID_CODE, simulator_for


class _RealReader:
    driver = "hid"

    def present(self, text: str) -> None:  # pragma: no cover - must never be called
        raise AssertionError("a real reader was told to fake a code")


def test_real_devices_get_no_simulator() -> None:
    assert simulator_for(reader=_RealReader(), scanner=None) is None
    assert registry.simulator(reader=_RealReader()) is None


def test_fake_devices_act_for_the_citizen() -> None:
    reader, scanner = FakeCodeReader(delay=0.0), FakeScanner(delay=0.0, pages=0)
    sim = registry.simulator(reader=reader, scanner=scanner)
    assert sim.can_show_code and sim.can_feed_papers and not sim.can_read_text_message
    reader.start()
    sim.show_code()
    assert reader.read(timeout=1.0).text == TEST_VNEID_CODE
    sim.feed_papers(2)
    pages = scanner.scan(ScanSettings(source=ScanSource.FEEDER, dpi=100), timeout=10)
    assert len(pages) == 2


def test_a_mixed_kiosk_only_fakes_what_is_fake() -> None:
    sim = simulator_for(reader=_RealReader(), scanner=FakeScanner(delay=0.0), text_message=lambda otp: "123456")
    assert sim is not None and not sim.can_show_code and sim.can_feed_papers
    sim.show_code()  # a no-op: the real reader is never touched
    assert sim.text_message("otp-1") == "123456"
