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


def test_the_demo_approves_the_kiosks_login_qr_and_shows_the_chip_card(tmp_path) -> None:
    """"Mô phỏng" on the QR door approves the QR at the sandbox (as the VNeID app would); on the chip door it
    holds up the demo card's front QR and lays the card on the reader. Without a sandbox there is no approve."""
    from drivers.fakes.chip import DEMO_ID_CARD_QR, FakeChipReader
    from kiosk.portal.oidc import VneidQrLogin, issuer_for
    from kiosk.sandbox.server import start_sandbox
    from kiosk.sandbox.testing import SandboxTestClient

    reader, chip = FakeCodeReader(delay=0.0), FakeChipReader(base_delay=0, photo_delay=0)
    assert not registry.simulator(reader=reader).can_approve_login
    assert registry.simulator(reader=reader).approve_login("BCDFGHJK") is False
    with start_sandbox(tmp_path / "s.sqlite3") as sandbox:
        sim = registry.simulator(reader=reader, chip_reader=chip,
                                 approve_login=SandboxTestClient(sandbox.url).approve_login)
        assert sim.can_approve_login and sim.can_present_card
        oidc = VneidQrLogin(issuer_for(sandbox.url))
        qr = oidc.start()
        assert oidc.poll(qr) is None  # waiting for the phone
        assert sim.approve_login(qr.user_code) is True
        approved = oidc.poll(qr)
        assert approved is not None and approved.claims["sub"] == TEST_VNEID_CODE
        assert sim.approve_login(qr.user_code) is False  # no longer pending: the demo says so, never raises
        oidc.close()
    reader.start()
    sim.show_id_card()
    assert reader.read(timeout=1.0).text == DEMO_ID_CARD_QR
    assert chip.wait_for_card(0.05) is False
    sim.present_card()
    assert chip.wait_for_card(0.05) is True
