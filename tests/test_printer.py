"""Receipt printer driver: what reaches the paper, and every way a printer refuses or fails."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from PIL import Image, ImageDraw

from drivers.base import (
    CoverOpen, DeviceGone, DeviceTimeout, FeedBlock, ImageBlock, PaperJam, PaperOut, PrinterOffline, PrintJob,
    QrBlock,
)
from drivers.escpos_decode import decode_raster, decode_stream, decoded_qr_payloads, stack_vertically
from drivers.escpos_printer import open_printer, to_one_bit
from drivers.fakes.printer import FakePrinter

DLE_EOT = b"\x10\x04"


def _pattern(width: int, height: int) -> Image.Image:
    """Grey shapes with anti-aliased edges: thresholding must be exact, not dithered."""
    im = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(im)
    draw.ellipse((5, 5, width // 2, height - 5), fill=40)
    draw.rectangle((width // 2, 10, width - 10, 30), fill=0)
    draw.line((0, height - 1, width - 1, 0), fill=120, width=3)
    return im


def _job(*blocks) -> PrintJob:
    return PrintJob("test", list(blocks))


# --------------------------------------------------------------------------------------------- paper
def test_decoded_stream_is_exactly_the_rendered_one_bit_image():
    tall = _pattern(576, 1500)  # taller than one GS v 0 fragment
    printer = FakePrinter(width_dots=576)
    sent = printer.print_job(_job(ImageBlock(tall), FeedBlock(2)))
    assert printer.last_job == sent
    decoded = stack_vertically(decode_raster(sent))
    expected = to_one_bit(tall, 576)
    assert decoded.size == expected.size
    assert decoded.tobytes() == expected.tobytes()
    # and the image really has ink where the pattern is dark and none where it is white
    assert decoded.getpixel((100, 700)) == 0 and decoded.getpixel((560, 1400)) == 255


def test_native_qr_carries_the_payload_and_raster_qr_is_readable():
    import zxingcpp

    payload = "DVCK1|H38.01-251123-0042"
    native = FakePrinter(native_qr=True).print_job(_job(QrBlock(payload)))
    assert decoded_qr_payloads(native) == [payload]
    raster = FakePrinter(native_qr=False).print_job(_job(QrBlock(payload)))
    assert decoded_qr_payloads(raster) == []
    image = stack_vertically(decode_raster(raster)).convert("L")
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [payload]


def test_58mm_head_never_gets_a_wider_image():
    printer = FakePrinter(width_dots=384, profile="POS-5890")
    sent = printer.print_job(_job(ImageBlock(_pattern(800, 200)), QrBlock("DVCK1|X" * 20, size_dots=600)))
    widths = {im.width for im in decode_raster(sent)}
    assert widths == {384}
    # a configured width larger than the model's head is capped, not trusted
    assert FakePrinter(width_dots=576, profile="POS-5890").width_dots == 384


def test_job_ends_with_a_cut_on_cutter_models():
    names = [c.name for c in decode_stream(FakePrinter().print_job(_job(FeedBlock(1))))]
    assert names[0] == "ESC @" and names[-1] == "GS V cut"


# --------------------------------------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("fault", "error"),
    [("paper_out", PaperOut), ("cover_open", CoverOpen), ("offline", PrinterOffline), ("gone", DeviceGone)],
)
def test_refuses_to_print_into_a_printer_that_cannot_print(fault, error):
    printer = FakePrinter(fault=fault)
    status = printer.status()
    assert not status.ok and status.error_kind == error.kind
    with pytest.raises(error):
        printer.print_job(_job(ImageBlock(_pattern(200, 50))))
    assert printer.jobs == []


def test_paper_runs_out_after_n_jobs_and_a_new_roll_fixes_it():
    printer = FakePrinter(fault="out_after_n:2")
    job = _job(ImageBlock(_pattern(300, 40)))
    printer.print_job(job)
    printer.print_job(job)
    assert printer.status().paper_out
    with pytest.raises(PaperOut):
        printer.print_job(job)
    assert len(printer.jobs) == 2
    printer.set_fault("")
    printer.print_job(job)
    assert len(printer.jobs) == 3 and printer.status().ok


def test_paper_low_prints_but_warns():
    printer = FakePrinter(fault="paper_low")
    printer.print_job(_job(FeedBlock(1)))
    status = printer.status()
    assert status.paper_low and status.ok and status.health.value == "warning"
    assert len(printer.jobs) == 1


def test_jam_mid_job_is_reported_as_a_possibly_incomplete_receipt():
    job = _job(ImageBlock(_pattern(576, 600)))
    whole = FakePrinter().print_job(job)
    printer = FakePrinter()
    printer.set_fault("jam_mid_job")
    with pytest.raises(PaperJam) as caught:
        printer.print_job(job)
    assert caught.value.after_send is True
    on_paper = printer.last_job
    assert on_paper is not None and whole.startswith(on_paper) and len(on_paper) < len(whole)
    partial = decode_raster(on_paper)  # a cut-off stream still decodes, to the rows that came out
    assert 0 < partial[0].height < 600
    with pytest.raises(PaperJam):  # stays jammed until cleared
        printer.print_job(_job(FeedBlock(1)))


def test_hung_printer_times_out_within_the_deadline():
    printer = FakePrinter(fault="timeout")
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        printer.print_job(_job(FeedBlock(1)), timeout=0.3)
    assert time.monotonic() - started < 1.0
    assert printer.jobs == []


def test_slow_head_longer_than_the_timeout_is_a_timeout():
    printer = FakePrinter(speed=250.0, status_query=False)
    with pytest.raises(DeviceTimeout):
        printer.print_job(_job(ImageBlock(_pattern(576, 3000))), timeout=0.2)


def test_model_without_status_prints_and_says_so():
    printer = FakePrinter(profile="TSP600")  # Star mode: no DLE EOT
    status = printer.status()
    assert status.supported is False and status.ok
    sent = printer.print_job(_job(FeedBlock(1)))
    assert DLE_EOT not in sent and printer.last_job == sent


def test_unknown_fault_is_rejected():
    with pytest.raises(ValueError):
        FakePrinter(fault="on_fire")


# --------------------------------------------------------------------------------------------- real connections
class _Listener:
    """A TCP printer on 127.0.0.1 that records bytes and answers DLE EOT like an Epson (or stays mute)."""

    def __init__(self, paper_byte: int = 0x12, answer: bool = True) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.paper_byte, self.answer = paper_byte, answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(5)
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    self.received += chunk
                    if self.answer and self.received[-3:-1] == DLE_EOT:  # a query waits for its answer
                        conn.sendall(bytes([self.paper_byte if self.received[-1] == 4 else 0x12]))

    def close(self) -> None:
        self.sock.close()


def _wait_for(predicate, seconds: float = 2.0) -> None:
    end = time.monotonic() + seconds
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)


def test_network_printer_receives_exactly_the_returned_bytes():
    listener = _Listener()
    try:
        printer = open_printer("network", host="127.0.0.1", port=listener.port, status_query=False, timeout=5)
        sent = printer.print_job(_job(ImageBlock(_pattern(512, 300)), QrBlock("DVCK1|ABC")))
        _wait_for(lambda: len(listener.received) >= len(sent))
        assert bytes(listener.received) == sent
    finally:
        listener.close()


def test_network_printer_status_is_asked_before_and_after_the_job():
    listener = _Listener()
    try:
        printer = open_printer("network", host="127.0.0.1", port=listener.port, timeout=5)
        assert printer.status().ok
        listener.received.clear()
        sent = printer.print_job(_job(FeedBlock(1)))
        _wait_for(lambda: len(listener.received) >= len(sent) + 24)
        queries = b"".join(DLE_EOT + bytes([n]) for n in (1, 2, 3, 4))
        assert bytes(listener.received) == queries + sent + queries
    finally:
        listener.close()


def test_network_printer_reporting_paper_end_gets_nothing():
    listener = _Listener(paper_byte=0x12 | 0x6C)
    try:
        printer = open_printer("network", host="127.0.0.1", port=listener.port, timeout=5)
        with pytest.raises(PaperOut):
            printer.print_job(_job(ImageBlock(_pattern(300, 100))))
        time.sleep(0.05)
        assert b"\x1dv0" not in listener.received
    finally:
        listener.close()


def test_network_printer_that_never_answers_status_times_out():
    listener = _Listener(answer=False)
    try:
        printer = open_printer("network", host="127.0.0.1", port=listener.port, timeout=0.5)
        with pytest.raises(DeviceTimeout):
            printer.print_job(_job(FeedBlock(1)))
    finally:
        listener.close()


def test_serial_printer_over_a_pty(tmp_path):
    """A real pyserial connection: the test is the printer on the other end of a pseudo-terminal."""
    import os
    import tty

    master, slave = os.openpty()
    tty.setraw(master)
    received = bytearray()

    def printer_side() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            received.extend(chunk)
            if received[-3:-1] == DLE_EOT:
                os.write(master, b"\x12")

    threading.Thread(target=printer_side, daemon=True).start()
    try:
        printer = open_printer("serial", serial_device=os.ttyname(slave), timeout=5)
        assert printer.status().ok
        received.clear()
        sent = printer.print_job(_job(ImageBlock(_pattern(256, 120))))
        _wait_for(lambda: len(received) >= len(sent) + 24)
        queries = b"".join(DLE_EOT + bytes([n]) for n in (1, 2, 3, 4))
        assert bytes(received) == queries + sent + queries
    finally:
        os.close(slave)
        os.close(master)


def test_missing_usb_and_serial_printers_are_device_gone():
    for printer in (open_printer("usb", usb_vendor=0xFFFF, usb_product=0xFFFE, timeout=2),
                    open_printer("serial", serial_device="/dev/ttyNO-SUCH-PORT", timeout=2)):
        with pytest.raises(DeviceGone):
            printer.print_job(_job(FeedBlock(1)))


def test_closed_port_is_device_gone():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    printer = open_printer("network", host="127.0.0.1", port=port, timeout=2)
    with pytest.raises(DeviceGone):
        printer.print_job(_job(FeedBlock(1)))
    assert printer.status().error_kind == "device_gone"


def test_file_connection_writes_the_job(tmp_path):
    target = tmp_path / "printer.bin"
    printer = open_printer("file", file_path=str(target))
    assert printer.status().supported is False
    sent = printer.print_job(_job(ImageBlock(_pattern(200, 80))))
    assert target.read_bytes() == sent
    missing = open_printer("file", file_path=str(tmp_path / "no" / "such" / "dir" / "p.bin"))
    with pytest.raises(DeviceGone):
        missing.print_job(_job(FeedBlock(1)))


def test_bad_configuration_is_refused_at_build_time():
    with pytest.raises(ValueError):
        open_printer("bluetooth")
    with pytest.raises(ValueError):
        open_printer("network", profile="NO-SUCH-MODEL")


def test_decoder_survives_foreign_commands_between_images():
    first, second = to_one_bit(_pattern(64, 16), 64), to_one_bit(_pattern(64, 24), 64)
    one = FakePrinter(width_dots=64, profile="default").print_job(_job(ImageBlock(first)))
    two = FakePrinter(width_dots=64, profile="default").print_job(_job(ImageBlock(second)))
    noise = b"Hello\n" + DLE_EOT + b"\x01" + b"\x1b!\x08" + b"\x1b\x7e" + b"\x1dV\x41\x03"
    images = decode_raster(one + noise + two)
    assert [im.tobytes() for im in images] == [first.tobytes(), second.tobytes()]
