"""Printing figures: layout, encoding, decoding, bytes per receipt and time on a real 250 mm/s head."""
from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest

from drivers.escpos_decode import decode_raster
from drivers.escpos_printer import encode_job
from kiosk.domain.receipt import ReceiptData, TicketData, receipt_job, ticket_job

HEAD_MM_S = 250  # TM-T20II class head
DOTS_PER_MM = 8


def _median_ms(fn, runs: int = 15) -> float:
    fn()  # warm caches (fonts)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@pytest.mark.bench
@pytest.mark.parametrize("width", [576, 384])
def test_bench_receipt(width, bench_report):
    data = ReceiptData(
        centre_name="Bộ phận Một cửa UBND xã Tân Lập", kiosk_id="KIOSK-DEMO-01", dossier_code="H38.01-251123-0042",
        local_reference="L-20261123-7F3A", procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh cho trẻ em sinh ra tại Việt Nam có cha mẹ là công dân Việt Nam",
        citizen_name="Nguyễn Thị Hồng Ngọc", received_at=dt.datetime(2026, 11, 23, 14, 35),
        appointment_date=dt.date(2026, 11, 24), documents=[("Tờ khai đăng ký khai sinh", 1), ("Giấy chứng sinh", 1)],
        fee_text="Miễn phí", status_url_hint="dichvucong.gov.vn",
    )
    ticket = TicketData(centre_name="Bộ phận Một cửa UBND xã Tân Lập", number="125", counter="Quầy 2", waiting=5,
                        issued_at=dt.datetime(2026, 11, 23, 14, 36))
    for name, make in (("receipt", lambda: receipt_job(data, width, native_qr=False)),
                       ("ticket", lambda: ticket_job(ticket, width))):
        job = make()
        stream = encode_job(job, profile="default", width_dots=width, native_qr=False)
        rows = sum(im.height for im in decode_raster(stream))
        layout = _median_ms(make)
        encode = _median_ms(lambda job=job: encode_job(job, profile="default", width_dots=width, native_qr=False))
        decode = _median_ms(lambda stream=stream: decode_raster(stream))
        paper_mm = rows / DOTS_PER_MM
        print(f"\n{name} {width} dots: layout {layout:.1f} ms, encode {encode:.1f} ms, decode {decode:.1f} ms, "
              f"{len(stream) / 1024:.1f} KiB, {paper_mm:.0f} mm of paper, "
              f"{paper_mm / HEAD_MM_S:.2f} s at {HEAD_MM_S} mm/s")
        section = f"Printing, {width} dots"
        bench_report.add(section, f"{name}: layout", round(layout, 1), "ms")
        bench_report.add(section, f"{name}: encode", round(encode, 1), "ms")
        bench_report.add(section, f"{name}: decode back", round(decode, 1), "ms")
        bench_report.add(section, f"{name}: stream size", round(len(stream) / 1024, 1), "KiB")
        bench_report.add(section, f"{name}: paper / time at {HEAD_MM_S} mm/s", round(paper_mm), "mm", None, None,
                         f"{paper_mm / HEAD_MM_S:.2f} s")
        assert rows > 0
