"""The PC/SC chip driver against the REAL pcscd + vsmartcard-vpcd, with our virtual CCCD on the socket."""
from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import time

import pytest

from drivers.base import DeviceGone, DeviceTimeout, Health
from drivers.chip import CardAccessDenied, CardExpired, CardNotTrusted, CardRemoved, NoCard
from drivers.chip import BacKeys
from drivers.pcsc_reader import PcscChipReader
from tests.chip_fixtures import *  # noqa: F401,F403
from tests.chip_fixtures import card_keys, profile

GOOD = profile()


def test_full_read_bac_sm_dgs_and_passive_auth(insert_card, chip_reader, caplog):
    caplog.set_level(logging.DEBUG)
    insert_card(GOOD)
    ident = chip_reader.read(card_keys(GOOD), timeout=10)
    assert ident.id_number == "001090012345"
    assert ident.full_name == "Nguyễn Văn An"
    assert ident.birth_date == dt.date(1990, 1, 1)
    assert ident.sex == "Nam" and ident.nationality == "Việt Nam" and ident.ethnicity == "Kinh"
    assert ident.religion == "Không"
    assert ident.home_town.startswith("Xã Đông Hưng") and "Tràng Tiền" in ident.residence
    assert ident.issue_date == dt.date(2021, 8, 15) and ident.expiry_date == dt.date(2030, 1, 1)
    assert (ident.father_name, ident.mother_name, ident.spouse_name) == ("Nguyễn Văn Bình", "Trần Thị Cúc", "")
    assert ident.old_id_number == "123456789"
    assert ident.mrz.document_number == "090012345" and ident.mrz.full_id_number == "001090012345"
    assert ident.photo[:3] == b"\xff\xd8\xff" and ident.photo_mime == "image/jpeg" and len(ident.photo) > 5000
    pa = ident.passive_auth
    assert pa.ok and pa.signature_ok and pa.chain_ok and pa.dg_hashes == {1: True, 2: True, 13: True}
    assert ident.data_groups == (1, 2, 13)
    # no personal data in logs or in the repr
    text = caplog.text + repr(ident)
    for secret in ("001090012345", "090012345", "Nguyễn", "NGUYEN", "1990", "900101", "Tràng"):
        assert secret not in text


def test_keys_from_front_qr_open_the_chip(insert_card, chip_reader):
    insert_card(GOOD)
    keys = BacKeys.from_qr_text("001090012345|123456789|Nguyễn Văn An|01011990|Nam|Số 12 Tràng Tiền|15082021\r\n")
    ident = chip_reader.read(keys, include_photo=False, timeout=10)
    assert ident.photo == b"" and ident.data_groups == (1, 13) and ident.passive_auth.ok


def test_wrong_keys_access_denied(insert_card, chip_reader):
    insert_card(GOOD)
    wrong = BacKeys("090012345", "900102", "300101")
    with pytest.raises(CardAccessDenied):
        chip_reader.read(wrong, timeout=10)


@pytest.mark.parametrize("variant,failure", [("wrong_hash", "dg_hash_mismatch"), ("bad_signature", "bad_signature")])
def test_tampered_chip_not_trusted(insert_card, chip_reader, variant, failure):
    insert_card(GOOD, variant=variant)
    with pytest.raises(CardNotTrusted) as ei:
        chip_reader.read(card_keys(GOOD), include_photo=False, timeout=10)
    assert ei.value.result.failure == failure


def test_unknown_csca_not_trusted(insert_card, chip_reader, chip_other_pki):
    insert_card(GOOD, pki=chip_other_pki)
    with pytest.raises(CardNotTrusted) as ei:
        chip_reader.read(card_keys(GOOD), include_photo=False, timeout=10)
    assert ei.value.result.failure == "unknown_csca" and ei.value.result.signature_ok


def test_expired_card(insert_card, chip_reader):
    old = profile(birth_date=dt.date(1980, 3, 4), issue_date=dt.date(2016, 1, 1), expiry_date=dt.date(2020, 3, 4),
                  id_number="001080012345")
    insert_card(old)
    with pytest.raises(CardExpired) as ei:
        chip_reader.read(card_keys(old), include_photo=False, timeout=10)
    assert ei.value.identity is not None and ei.value.identity.passive_auth.ok


def test_card_removed_mid_read(insert_card, chip_reader):
    insert_card(GOOD, remove_after=12)  # gone while DG1/DG13 are being read
    with pytest.raises(CardRemoved):
        chip_reader.read(card_keys(GOOD), timeout=10)


def test_hung_reader_times_out(insert_card, chip_reader):
    card = insert_card(GOOD, hang_after=8)
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout):
        chip_reader.read(card_keys(GOOD), timeout=1.0)
    elapsed = time.monotonic() - t0
    card.close()  # frees the stuck pcscd transmit
    assert elapsed < 2.0


def test_no_card_and_wait_timeout(empty_slot, chip_reader):
    t0 = time.monotonic()
    assert chip_reader.wait_for_card(timeout=0.5) is False
    assert time.monotonic() - t0 < 1.5
    with pytest.raises(NoCard):
        chip_reader.read(card_keys(GOOD), timeout=3)


def test_reader_unplugged_is_device_gone(pcscd_vpcd):
    r = PcscChipReader("ACS ACR1252 (not connected)", call_timeout=2)
    try:
        with pytest.raises(DeviceGone):
            r.wait_for_card(timeout=0.5)
        st = r.status()
        assert st.health is Health.FAILED and st.error_kind == "device_gone"
    finally:
        r.close()


def test_status_for_doctor(empty_slot, insert_card, chip_reader):
    st = chip_reader.status()
    assert st.health is Health.OK and "card absent" in st.detail
    insert_card(GOOD)
    assert "card present" in chip_reader.status().detail


_NOT_RUNNING = """
import sys
from drivers.pcsc_reader import PcscChipReader
from drivers.base import DeviceGone
r = PcscChipReader(call_timeout=2)
try:
    r.wait_for_card(timeout=0.5)
except DeviceGone as e:
    print("GONE", e.detail); print("STATUS", r.status().health.value, r.status().error_kind); sys.exit(0)
sys.exit(1)
"""


def test_pcscd_not_running_is_device_gone(tmp_path):
    # libpcsclite clients find pcscd through PCSCLITE_CSOCK_NAME: point a child process at a dead socket.
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "no-pcscd.comm"))
    r = subprocess.run([sys.executable, "-c", _NOT_RUNNING], env=env, capture_output=True, text=True, timeout=20,
                       cwd=os.path.dirname(os.path.dirname(__file__)))
    assert r.returncode == 0, r.stderr
    assert "GONE" in r.stdout and "pcscd" in r.stdout and "STATUS failed device_gone" in r.stdout
