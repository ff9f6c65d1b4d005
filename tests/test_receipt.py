"""Receipt, queue ticket and test slip: checked on what the printer actually received, decoded back.

Golden images live in tests/golden/ (see its README to regenerate them after a deliberate layout change).
"""
from __future__ import annotations

import datetime as dt
import difflib
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from drivers.base import ImageBlock, QrBlock
from drivers.escpos_decode import decode_raster, decoded_qr_payloads, stack_vertically
from drivers.fakes.printer import FakePrinter
from kiosk.domain import receipt
from kiosk.domain.receipt import ReceiptData, TicketData, receipt_job, render_preview, ticket_job

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
MAX_DIFFERENT_PIXELS = 0.003  # anti-aliasing differences between FreeType builds, not layout changes

# Synthetic citizen; the procedure is the national birth-registration procedure 1.001193 (shared/domain.md).
PROCEDURE = "Đăng ký khai sinh cho trẻ em sinh ra tại Việt Nam có cha mẹ là công dân Việt Nam"
CITIZEN = "Nguyễn Thị Hồng Ngọc"


def _receipt(**changes) -> ReceiptData:
    data = dict(
        centre_name="Bộ phận Một cửa UBND xã Tân Lập",
        kiosk_id="KIOSK-DEMO-01",
        dossier_code="H38.01-251123-0042",
        local_reference="L-20261123-7F3A",
        procedure_code="1.001193",
        procedure_name=PROCEDURE,
        citizen_name=CITIZEN,
        received_at=dt.datetime(2026, 11, 23, 14, 35),
        appointment_date=dt.date(2026, 11, 24),
        documents=[("Tờ khai đăng ký khai sinh", 1), ("Giấy chứng sinh (bản chính)", 1),
                   ("Giấy chứng nhận kết hôn của cha mẹ (bản sao)", 2)],
        fee_text="Miễn phí (đăng ký đúng hạn)",
        status_url_hint="dichvucong.gov.vn",
    )
    data.update(changes)
    return ReceiptData(**data)


def _ticket(**changes) -> TicketData:
    data = dict(centre_name="Bộ phận Một cửa UBND xã Tân Lập", number="125", counter="Quầy 2", waiting=5,
                issued_at=dt.datetime(2026, 11, 23, 14, 36), service_name="Hộ tịch")
    data.update(changes)
    return TicketData(**data)


def _printed(job, width: int) -> Image.Image:
    """Send through the fake printer and decode what reached the paper."""
    stream = FakePrinter(width_dots=width, native_qr=False).print_job(job)
    return stack_vertically(decode_raster(stream))


def _compare_golden(image: Image.Image, name: str) -> None:
    path = GOLDEN / name
    image.save(f"/tmp/{name}")
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden {path}; run: UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_receipt.py -k golden")
        image.save(path)
        return
    golden = Image.open(path).convert("1")
    assert image.size == golden.size, f"layout size changed: {image.size} != {golden.size} (see /tmp/{name})"
    diff = ImageChops.difference(image.convert("L"), golden.convert("L"))
    changed = sum(1 for v in diff.getdata() if v)
    assert changed / (image.width * image.height) <= MAX_DIFFERENT_PIXELS, f"{changed} pixels differ (see /tmp/{name})"


@pytest.fixture(scope="module")
def printed_receipt() -> Image.Image:
    """The standard receipt as printed on an 80 mm head (laid out once: several tests read it)."""
    return _printed(receipt_job(_receipt(), 576, native_qr=False), 576)


# --------------------------------------------------------------------------------------------- golden
def test_golden_receipt(printed_receipt):
    _compare_golden(printed_receipt, "receipt_576.png")


@pytest.mark.parametrize(
    ("name", "job", "width"),
    [
        ("receipt_offline_384.png", lambda: receipt_job(
            _receipt(dossier_code=None, offline=True, payment_qr=(
                "00020101021138560010A0000007270126000697041501121133666688880208QRIBFTTA53037045802VN6304F443")),
            384, native_qr=False), 384),
        ("ticket_576.png", lambda: ticket_job(_ticket(), 576), 576),
    ],
)
def test_golden_printed_output(name, job, width):
    _compare_golden(_printed(job(), width), name)


# --------------------------------------------------------------------------------------------- content
def _similarity(expected: str, text: str) -> float:
    """Best match of `expected` against any window of the OCR text (lines joined, spacing ignored)."""
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    n = len(expected)
    best = 0.0
    for start in range(0, max(1, len(flat) - n + 1)):
        for width in (n - 2, n, n + 2):
            best = max(best, difflib.SequenceMatcher(None, expected, flat[start : start + width]).ratio())
    return best


def _ocr(image: Image.Image, psm: int = 6) -> str:
    """Tesseract (Vietnamese) on the printed pixels: psm 6 for a text block, 11 for sparse big text."""
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (Debian: tesseract-ocr tesseract-ocr-vie)")
    path = Path("/tmp/receipt_ocr_input.png")
    image.save(path)
    done = subprocess.run(["tesseract", str(path), "-", "-l", "vie", "--psm", str(psm)], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout


def test_vietnamese_reads_back_from_the_printed_receipt(printed_receipt):
    # the text part; keeps OCR quick
    top = printed_receipt.crop((0, 0, printed_receipt.width, min(printed_receipt.height, 700)))
    text = _ocr(top)
    assert _similarity(PROCEDURE, text) >= 0.9, text
    assert _similarity(CITIZEN, text) >= 0.9, text
    assert _similarity("BIÊN NHẬN HỒ SƠ", text) >= 0.9, text
    assert _similarity("Ngày hẹn trả kết quả: 24/11/2026", text) >= 0.9, text


def test_ticket_number_counter_and_queue_read_back():
    text = _ocr(_printed(ticket_job(_ticket(number="0427", waiting=12), 576), 576), psm=11)
    assert "0427" in text, text
    assert _similarity("Quầy 2", text) >= 0.8, text
    assert _similarity("Có 12 người đang chờ trước bạn", text) >= 0.9, text


def test_receipt_qr_is_the_status_lookup_code(printed_receipt):
    assert [r.text for r in zxingcpp.read_barcodes(printed_receipt.convert("L"))] == ["DVCK1|H38.01-251123-0042"]
    queued = _printed(receipt_job(_receipt(dossier_code=None, offline=True), 576, native_qr=False), 576)
    assert [r.text for r in zxingcpp.read_barcodes(queued.convert("L"))] == ["DVCK1|L-20261123-7F3A"]


def test_native_qr_receipt_sends_the_lookup_code_to_the_printer():
    stream = FakePrinter(native_qr=True).print_job(receipt_job(_receipt(), 576, native_qr=True))
    assert decoded_qr_payloads(stream) == ["DVCK1|H38.01-251123-0042"]


def test_payment_qr_is_printed_when_there_is_a_fee():
    vietqr = "00020101021138560010A0000007270126000697041501121133666688880208QRIBFTTA53037045802VN6304F443"
    printed = _printed(receipt_job(_receipt(payment_qr=vietqr), 576, native_qr=False), 576)
    assert sorted(r.text for r in zxingcpp.read_barcodes(printed.convert("L"))) == sorted(
        ["DVCK1|H38.01-251123-0042", vietqr])


def test_58mm_receipt_wraps_instead_of_overflowing():
    long_address = "Thôn Nà Phặc, xã Nà Phặc, tỉnh Cao Bằng " * 3 + "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html"
    long_job = receipt_job(_receipt(procedure_name=PROCEDURE + " " + long_address), 384, native_qr=False)
    assert all(b.image.width == 384 for b in long_job.blocks if isinstance(b, ImageBlock))
    long_receipt = _printed(long_job, 384)
    short_receipt = _printed(receipt_job(_receipt(), 384, native_qr=False), 384)
    assert long_receipt.width == 384
    assert long_receipt.height >= short_receipt.height + 4 * 20  # the extra words became extra lines
    for x0 in (0, long_receipt.width - 6):  # and no line ran into the margins
        margin = long_receipt.crop((x0, 0, x0 + 6, long_receipt.height))
        assert margin.getextrema() == (255, 255), "ink in a margin: a line overflowed"


def test_decomposed_input_prints_the_same_as_composed():
    nfd = _receipt(citizen_name=unicodedata.normalize("NFD", CITIZEN),
                   procedure_name=unicodedata.normalize("NFD", PROCEDURE))
    a = render_preview(receipt_job(nfd, 576, native_qr=False))
    b = render_preview(receipt_job(_receipt(), 576, native_qr=False))
    assert a.tobytes() == b.tobytes()


def test_preview_matches_what_the_printer_prints(printed_receipt):
    assert render_preview(receipt_job(_receipt(), 576, native_qr=False)).tobytes() == printed_receipt.tobytes()


def test_times_are_printed_in_vietnam_time():
    utc_evening = dt.datetime(2026, 11, 23, 20, 5, tzinfo=dt.UTC)
    assert receipt.format_datetime(utc_evening) == "24/11/2026 03:05"
    assert receipt.format_datetime(dt.datetime(2026, 1, 2, 9, 7)) == "02/01/2026 09:07"


def test_test_slip_has_a_full_width_ruler_and_a_qr():
    job = receipt.test_slip_job("KIOSK-07", 384, now=dt.datetime(2026, 11, 23, 8, 0))
    assert [b.payload for b in job.blocks if isinstance(b, QrBlock)] == ["DVCK1|TEST-KIOSK-07"]
    printed = _printed(job, 384)
    rows = [printed.crop((0, y, 384, y + 1)).getextrema() for y in range(printed.height)]
    assert (0, 0) in rows  # a row that is black from the first dot to the last: the head width is right


def test_printer_messages_speak_of_the_printer_and_send_the_citizen_to_staff():
    from drivers.base import ERROR_KINDS
    from kiosk.messages import for_device

    assert "hết giấy" in for_device(ERROR_KINDS["paper_out"](), device_kind="printer").title.lower()
    for kind in ("cover_open", "paper_jam", "printer_offline", "device_gone", "device_timeout", "io_error"):
        msg = for_device(ERROR_KINDS[kind](), device_kind="printer")
        text = f"{msg.title} {msg.text} {msg.next_step}"
        assert text == unicodedata.normalize("NFC", text) and "cán bộ" in text
        assert "máy quét" not in text.lower(), f"{kind}: a printer failure described as the scanner's"
