"""In-process tests of the ICAO 9303 layer and the CCCD helpers (no pcscd): crypto against the ICAO worked
example, MRZ, the card-validity rule, DG13 parsing, passive authentication verdicts, extended-length reads."""
from __future__ import annotations

import datetime as dt
import logging
import time

import pytest

from drivers.chip import BacKeys, CardAccessDenied, CardExpired, CardNotTrusted, card_expiry, read_identity
from drivers.icao import crypto, lds, pa
from drivers.icao.reader import FID_DG, FID_SOD, IcaoReader
from drivers.icao.tlv import tlv
from tests.vcard import TestPki, VirtualCccd, build_card_files, default_profile
from tests.vcard.personalise import build_dg13, build_sod


@pytest.fixture(scope="module")
def pki():
    return TestPki.generate()


def _card(p, pki, variant="good"):
    return VirtualCccd(build_card_files(p, pki, variant=variant),
                       (p.mrz_document_number, p.birth_date.strftime("%y%m%d"), p.mrz_expiry))


def test_bac_crypto_matches_icao_9303_part11_worked_example():
    seed = crypto.bac_key_seed("L898902C", "690806", "940623")  # Doc 9303-11 Appendix D.2
    assert seed.hex() == "239ab9cb282daf66231dc5a4df6bfbae"
    assert crypto.kdf(seed, 1).hex() == "ab94fdecf2674fdfb9b391f85d7f76f2"
    assert crypto.kdf(seed, 2).hex() == "7962d9ece03d1acd4c76089dce131543"
    s = bytes.fromhex("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
    e = crypto.des3_encrypt(crypto.kdf(seed, 1), s)
    assert e.hex() == "72c29c2371cc9bdb65b779b8e8d37b29ecc154aa56a8799fae2f498f76ed92f2"
    assert crypto.retail_mac(crypto.kdf(seed, 2), e).hex() == "5f1448eea8ad90a7"


def test_public_cccd_mrz_sample_layout():
    # MRZ of a public eKYC sample: document number = last 9 digits of the 12-digit ID, full ID in optional data
    mrz = "IDVNM0930470641001093047064<<2" "9301054M3301052VNM<<<<<<<<<<<8" "UNG<<HOANG<HIEP<<<<<<<<<<<<<<<"
    m = lds.parse_mrz(mrz)
    assert m.document_number == "093047064" and m.full_id_number == "001093047064"
    assert crypto.mrz_check_digit("001093047064") == mrz[29]
    keys = BacKeys.from_mrz(mrz)
    assert (keys.document_number, keys.birth_date, keys.expiry_date) == ("093047064", "930105", "330105")
    # and the same keys from the 12-digit number + dates (expiry = 40th birthday for a card issued at 28)
    assert BacKeys.from_qr("001093047064", dt.date(1993, 1, 5), dt.date(2021, 3, 1)) == keys
    assert "093047064" not in repr(keys)


def test_our_mrz_builder_passes_its_own_check_digits():
    p = default_profile()
    assert BacKeys.from_mrz(p.mrz()).document_number == p.id_number[-9:]
    bad = p.mrz()[:14] + "0" + p.mrz()[15:] if p.mrz()[14] != "0" else p.mrz()[:14] + "1" + p.mrz()[15:]
    with pytest.raises(ValueError):
        BacKeys.from_mrz(bad)


@pytest.mark.parametrize("birth,issue,expected", [
    (dt.date(1993, 1, 5), dt.date(2021, 3, 1), dt.date(2033, 1, 5)),  # age 28 -> 40
    (dt.date(1993, 1, 5), dt.date(2031, 6, 1), dt.date(2053, 1, 5)),  # 38.4: within 2 years of 40 -> 60
    (dt.date(1993, 1, 5), dt.date(2030, 12, 1), dt.date(2033, 1, 5)),  # 37.9: not yet within 2 years
    (dt.date(2012, 3, 1), dt.date(2019, 1, 1), dt.date(2026, 3, 1)),  # issued at 6 -> 14
    (dt.date(2012, 3, 1), dt.date(2024, 7, 1), dt.date(2037, 3, 1)),  # 12.3: within 2 years of 14 -> 25
    (dt.date(1999, 5, 20), dt.date(2024, 5, 20), dt.date(2039, 5, 20)),  # on the 25th birthday -> 40
    (dt.date(1964, 2, 29), dt.date(2022, 6, 1), None),  # 58.3: within 2 years of 60 -> for life
    (dt.date(1950, 1, 1), dt.date(2021, 1, 1), None),  # over 60 -> for life
])
def test_card_validity_rule_luat_can_cuoc_2023_art21(birth, issue, expected):
    assert card_expiry(birth, issue) == expected


def test_keys_from_qr_text_7_and_6_fields():
    k7 = BacKeys.from_qr_text("001090012345|123456789|Nguyễn Văn An|01011990|Nam|Hà Nội|15082021\r\n")
    k6 = BacKeys.from_qr_text("001090012345|Nguyễn Văn An|01011990|Nam|Hà Nội|15082021")
    assert k7 == k6 == BacKeys("090012345", "900101", "300101")


def test_dg13_parser_tolerates_other_nesting_and_a_version_integer():
    p = default_profile(spouse_name="Lê Thị Hoa")
    dg13 = build_dg13(p)
    inner = lds.tlv.parse_one(dg13).value  # 30 { fields }
    fields = lds.tlv.parse_one(inner).value
    variants = [dg13, tlv(0x6D, fields), tlv(0x6D, tlv(0x30, [tlv(0x02, b"\x01"), fields]))]
    for v in variants:
        f = lds.parse_dg13(v)
        assert f[1] == [p.id_number] and f[2] == ["Nguyễn Văn An"] and f[13] == ["Nguyễn Văn Bình", "Trần Thị Cúc"]
        assert f[14] == ["Lê Thị Hoa"] and f[12] == ["01/01/2030"]


def test_in_process_read_and_pa_verdicts(pki, caplog):
    caplog.set_level(logging.DEBUG)
    store = pa.CscaStore([pki.csca_cert])
    p = default_profile()
    keys = BacKeys.from_mrz(p.mrz())
    ident = read_identity(_card(p, pki).respond, keys, csca=store, deadline=time.monotonic() + 5)
    assert ident.passive_auth.ok and ident.full_name == "Nguyễn Văn An" and ident.photo[:2] == b"\xff\xd8"
    for variant, failure in (("wrong_hash", pa.DG_HASH_MISMATCH), ("bad_signature", pa.BAD_SIGNATURE)):
        with pytest.raises(CardNotTrusted) as ei:
            read_identity(_card(p, pki, variant).respond, keys, csca=store, deadline=time.monotonic() + 5)
        assert ei.value.result.failure == failure
    with pytest.raises(CardNotTrusted) as ei:
        read_identity(_card(p, pki).respond, keys, csca=None, deadline=time.monotonic() + 5)
    assert ei.value.result.failure == pa.NO_CSCA
    with pytest.raises(CardAccessDenied):
        read_identity(_card(p, pki).respond, BacKeys("090012345", "900101", "300102"), csca=store,
                      deadline=time.monotonic() + 5)
    old = default_profile(expiry_date=dt.date(2020, 1, 1))
    with pytest.raises(CardExpired):
        read_identity(_card(old, pki).respond, BacKeys.from_mrz(old.mrz()), csca=store,
                      deadline=time.monotonic() + 5)
    for secret in ("001090012345", "Nguyễn", "900101", "090012345"):
        assert secret not in caplog.text


def test_dg_missing_from_sod_is_not_trusted(pki):
    p = default_profile()
    files = build_card_files(p, pki)
    files[FID_SOD] = build_sod({1: files[FID_DG[1]]}, pki)  # SOD without DG13/DG2
    card = VirtualCccd(files, (p.mrz_document_number, "900101", p.mrz_expiry))
    with pytest.raises(CardNotTrusted) as ei:
        read_identity(card.respond, BacKeys.from_mrz(p.mrz()), csca=pa.CscaStore([pki.csca_cert]),
                      include_photo=False, deadline=time.monotonic() + 5)
    assert ei.value.result.failure == pa.DG_MISSING


def test_extended_length_read_and_csca_bundle_loading(pki, tmp_path):
    p = default_profile()
    card = _card(p, pki)
    r = IcaoReader(card.respond, extended_chunk=4096)
    r.select_applet()
    r.bac(p.mrz_document_number, "900101", p.mrz_expiry)
    before = card.apdus
    dg2 = r.read_file(FID_DG[2])
    assert dg2 == card.files[FID_DG[2]] and card.apdus - before <= 6  # 14 kB in a handful of APDUs
    (tmp_path / "a.pem").write_bytes(pki.csca_pem())
    (tmp_path / "README").write_text("not a certificate")
    assert len(pa.CscaStore.load(tmp_path).certs) == 1 and len(pa.CscaStore.load(tmp_path / "a.pem").certs) == 1


def test_secure_messaging_rejects_a_tampered_response(pki):
    from drivers.icao.sm import SecureMessagingError
    p = default_profile()
    card = _card(p, pki)

    def flip(apdu: bytes) -> bytes:
        out = card.respond(apdu)
        if apdu[0] & 0x0C and apdu[1] == 0xB0 and len(out) > 10:
            out = out[:3] + bytes([out[3] ^ 1]) + out[4:]
        return out

    r = IcaoReader(flip)
    r.select_applet()
    r.bac(p.mrz_document_number, "900101", p.mrz_expiry)
    with pytest.raises(SecureMessagingError):
        r.read_file(FID_DG[1])
