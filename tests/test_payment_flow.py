"""A procedure with a fee: the citizen sees the fee for what they actually submit (pages, copies), and the
printed receipt carries a VietQR payment code for that amount with the dossier code as its purpose — when
the centre has a collecting account configured, and only then."""
from __future__ import annotations

import zxingcpp

from drivers.escpos_decode import decode_raster, decoded_qr_payloads, stack_vertically
from kiosk.session.machine import State
from kiosk.domain.vietqr import parse_tlv
from session_fixtures import build_kiosk, close_kiosk, portal  # noqa: F401  (fixtures)
from portal_fixtures import sandbox_server  # noqa: F401  (fixture)

CERTIFIED_COPY = "2.000815"


def walk_to_done(k, copies: str) -> None:
    k.to_login(CERTIFIED_COPY)
    k.present("VNEID-TEST-0001")
    assert k.state is State.FORM, k.data.error
    k.send("set", field="document_title", value="Bằng tốt nghiệp trung học phổ thông")
    k.send("set", field="copies", value=copies)
    k.send("next")
    assert k.state is State.DOCUMENTS, k.data.form_errors
    while k.state is State.DOCUMENTS:  # three sheets for each paper: the fee is per page
        k.scanner.load(*[k.scanner.sheet() for _ in range(3)])
        k.send("scan")
        k.settle()
        k.send("next")
    assert k.state is State.REVIEW, k.data.error
    k.send("next")
    k.settle()
    k.send("submit_code", code=k.the_code())
    k.settle()
    assert k.state is State.DONE, k.data.error


def receipt_codes(printer) -> list[str]:
    stream = printer.jobs[0]
    paper = stack_vertically(decode_raster(stream)).convert("L")
    return decoded_qr_payloads(stream) + [r.text for r in zxingcpp.read_barcodes(paper)]


def test_receipt_carries_a_vietqr_for_the_fee_of_what_was_submitted(tmp_path, portal):  # noqa: F811
    k = build_kiosk(tmp_path, portal)
    k.services.config.payment.bank_bin = "970415"
    k.services.config.payment.account = "113366668888"
    try:
        walk_to_done(k, copies="2")
        codes = receipt_codes(k.printer)
        payment = [c for c in codes if c.startswith("000201")]
        assert len(payment) == 1, codes
        fields = parse_tlv(payment[0])
        # 3 pages per copy: 2,000 + 2,000 + 1,000 (from page 3) = 5,000 đ a copy; two copies
        assert fields["54"] == "10000"
        assert fields["62"]["08"] == k.data.dossier_code
        assert fields["38"]["01"]["00"] == "970415"
        assert "10.000" in k.data.fee_text
    finally:
        close_kiosk(k)


def test_no_payment_code_without_a_collecting_account(tmp_path, portal):  # noqa: F811
    k = build_kiosk(tmp_path, portal)
    try:
        walk_to_done(k, copies="1")
        assert not [c for c in receipt_codes(k.printer) if c.startswith("000201")]
    finally:
        close_kiosk(k)
