"""The card end of vsmartcard's vpcd protocol (read from frankmorgner/vsmartcard, virtualsmartcard/src/vpcd/vpcd.c):

The pcscd driver `libifdvpcd` LISTENS (TCP, port 35963 for slot 0, 35964 for slot 1 in Debian's
/etc/reader.conf.d/vpcd); the virtual card CONNECTS. Every message in both directions is a 2-byte big-endian
length followed by the payload. A 1-byte message from vpcd is a control code: 0x00 power off, 0x01 power on,
0x02 reset (no answer expected), 0x04 get ATR (answer: the ATR). Anything longer is a command APDU; the answer
is the response APDU. vpcd asks for the ATR on every presence poll; closing the socket = card removed.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

from tests.vcard.card import ATR, VirtualCccd

VPCD_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


class VpcdCard:
    """Runs a VirtualCccd on a vpcd slot in a background thread.

    remove_after: close the connection when this many APDUs arrived (card pulled away mid-read).
    hang_after: stop answering after this many APDUs (until `release()` or `close()`), like a hung reader.
    """

    def __init__(self, card: VirtualCccd, *, host: str = "127.0.0.1", port: int = VPCD_PORT,
                 remove_after: int | None = None, hang_after: int | None = None) -> None:
        self.card = card
        self.host, self.port = host, port
        self.remove_after = remove_after
        self.hang_after = hang_after
        self.apdus = 0
        self.controls: list[int] = []
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._release = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def insert(self, timeout: float = 5.0) -> VpcdCard:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self._stop.set()
        self._release.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    remove = close

    def __enter__(self) -> VpcdCard:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ protocol
    def _recv(self, n: int) -> bytes:
        buf = b""
        sock = self._sock
        while len(buf) < n:
            if sock is None:
                raise ConnectionError("closed")
            try:  # vpcd writes length and payload separately: ACK at once or Nagle + delayed ACK cost 40 ms
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass
            part = sock.recv(n - len(buf))
            if not part:
                raise ConnectionError("vpcd closed the connection")
            buf += part
        return buf

    def _send(self, payload: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                (size,) = struct.unpack(">H", self._recv(2))
                msg = self._recv(size)
                if size == 1:
                    code = msg[0]
                    self.controls.append(code)
                    if code == CTRL_ATR:
                        self._send(ATR)
                    elif code in (CTRL_OFF, CTRL_RESET, CTRL_ON):
                        self.card.reset()
                    continue
                self.apdus += 1
                if self.remove_after is not None and self.apdus > self.remove_after:
                    threading.Thread(target=self.close, daemon=True).start()
                    return
                if self.hang_after is not None and self.apdus > self.hang_after:
                    self._release.wait()
                    if self._stop.is_set():
                        return
                self._send(self.card.respond(msg))
        except (ConnectionError, OSError, struct.error):
            return
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test
            self.error = exc
