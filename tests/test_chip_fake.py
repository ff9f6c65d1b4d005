"""The fake chip reader behaves like the PC/SC driver: same data from the same card, same errors, timeouts."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import pytest

from drivers.base import DeviceGone, DeviceTimeout, Health
from drivers.chip import BacKeys, CardAccessDenied, CardExpired, CardNotTrusted, CardRemoved, CscaStore, NoCard
from drivers.fakes.chip import FAULTS, FakeChipReader
from tests.chip_fixtures import *  # noqa: F401,F403
from tests.chip_fixtures import card_keys, profile
from tests.vcard import VirtualCccd, build_card_files

GOOD = profile()


def _vcard(p, pki, variant="good"):
    return VirtualCccd(build_card_files(p, pki, variant=variant),
                       (p.mrz_document_number, p.birth_date.strftime("%y%m%d"), p.mrz_expiry))


def test_fake_reads_the_same_identity_as_the_driver(insert_card, chip_reader, chip_pki):
    insert_card(GOOD)
    real = chip_reader.read(card_keys(GOOD), timeout=10)
    fake = FakeChipReader(card=_vcard(GOOD, chip_pki), csca=CscaStore([chip_pki.csca_cert]), present=True,
                          base_delay=0, photo_delay=0)
    got = fake.read(card_keys(GOOD), timeout=5)
    got_d, real_d = dataclasses.asdict(got), dataclasses.asdict(real)
    # the two cards are personalised separately: same data, but each SOD has its own (randomised) signature
    assert len(got_d.pop("sod_sha256")) == len(real_d.pop("sod_sha256")) == 64
    assert got_d == real_d


@pytest.mark.parametrize("fault,error", [
    ("removed", CardRemoved), ("access_denied", CardAccessDenied), ("not_trusted", CardNotTrusted),
    ("expired", CardExpired), ("gone", DeviceGone), ("timeout", DeviceTimeout),
])
def test_fake_faults_raise_the_drivers_errors(fault, error):
    fake = FakeChipReader(fault=fault, present=True, base_delay=0.05, photo_delay=0.05)
    t0 = time.monotonic()
    with pytest.raises(error):
        fake.read(FakeChipReader.DEMO_KEYS, timeout=0.4)
    assert time.monotonic() - t0 < 0.8
    assert set(FAULTS) >= {fault}


def test_fake_with_a_tampered_virtual_card_gives_the_real_verdict(chip_pki, chip_other_pki):
    store = CscaStore([chip_pki.csca_cert])
    for pki, variant, failure in ((chip_pki, "wrong_hash", "dg_hash_mismatch"),
                                  (chip_other_pki, "good", "unknown_csca")):
        fake = FakeChipReader(card=_vcard(GOOD, pki, variant), csca=store, present=True, base_delay=0,
                              photo_delay=0)
        with pytest.raises(CardNotTrusted) as ei:
            fake.read(card_keys(GOOD), timeout=5)
        assert ei.value.result.failure == failure
    old = profile(expiry_date=dt.date(2020, 1, 1))
    with pytest.raises(CardExpired):
        FakeChipReader(card=_vcard(old, chip_pki), csca=store, present=True, base_delay=0, photo_delay=0).read(
            card_keys(old), timeout=5)


def test_fake_demo_card_timing_keys_and_presence():
    fake = FakeChipReader(base_delay=0.15, photo_delay=0.1)
    assert fake.status().health is Health.OK
    with pytest.raises(NoCard):
        fake.read(fake.DEMO_KEYS, timeout=1)
    assert fake.wait_for_card(timeout=0.1) is False
    threading.Timer(0.1, fake.present).start()
    assert fake.wait_for_card(timeout=2) is True
    t0 = time.monotonic()
    ident = fake.read(BacKeys.from_qr_text("001090012345|123456789|Nguyễn Văn An|01011990|Nam|Hà Nội|15082021"))
    took = time.monotonic() - t0
    assert 0.24 <= took < 0.6 and ident.full_name == "Nguyễn Văn An" and ident.photo[:2] == b"\xff\xd8"
    assert fake.read(fake.DEMO_KEYS, include_photo=False).photo == b""
    with pytest.raises(CardAccessDenied):
        fake.read(BacKeys("090012345", "900101", "300102"))
    with pytest.raises(DeviceTimeout):  # slower than the caller's timeout, like the real read
        fake.read(fake.DEMO_KEYS, timeout=0.1)
    threading.Timer(0.05, fake.remove).start()
    with pytest.raises(CardRemoved):
        fake.read(fake.DEMO_KEYS, timeout=2)


def test_fake_default_delays_resemble_a_real_read():
    fake = FakeChipReader()
    assert 0.8 <= fake.base_delay <= 2.0 and 1.0 <= fake.photo_delay <= 4.0
    with pytest.raises(ValueError):
        FakeChipReader(fault="melted")


def test_the_demo_card_passes_real_passive_authentication_against_the_configured_demo_csca(tmp_path, chip_pki):
    """The demo card's EF.SOD is signed by the demo CSCA (not a placeholder): the bundle the demo configures
    verifies it, any other CSCA refuses it, and the SOD hash the portal gets is the hash of those bytes."""
    from drivers import registry
    from drivers.fakes.chip import DEMO_ID_CARD_QR, demo_csca_bundle
    from kiosk.appliance.config import ChipReaderSection

    bundle = demo_csca_bundle(tmp_path)
    assert b"BEGIN CERTIFICATE" in bundle.read_bytes() and demo_csca_bundle(tmp_path) == bundle
    fake = registry.build_chip_reader(ChipReaderSection(driver="fake", csca_bundle=str(bundle)))
    fake.base_delay = fake.photo_delay = 0
    fake.present()
    ident = fake.read(BacKeys.from_qr_text(DEMO_ID_CARD_QR), timeout=10)
    pa = ident.passive_auth
    assert pa.ok and pa.signature_ok and pa.chain_ok and all(pa.dg_hashes.values()) and set(pa.dg_hashes) >= {1, 2, 13}
    assert ident.full_name == "Nguyễn Văn An" and len(ident.sod_sha256) == 64
    stranger = FakeChipReader(csca=CscaStore([chip_pki.csca_cert]), present=True, base_delay=0, photo_delay=0)
    with pytest.raises(CardNotTrusted):
        stranger.read(fake.DEMO_KEYS, timeout=10)
