"""Preparing a dossier's PDFs for delivery (issue 14): an invisible OCR text layer on scanned pages, then the
kiosk's seal. The outbox runs it once per dossier, before the first upload (see `Outbox._prepare_locked` for
the write order that makes it crash-safe), on the outbox's thread, never on the UI thread.

OCR: each page that carries no text of its own (no /Font: a packed scan, not the declaration form) is rendered at
its scan's resolution within 200-300 dpi (poppler's pdftoppm, grey), read by tesseract (`vie`) into a text-only PDF
page (tesseract's `textonly_pdf`: its GlyphLessFont, text render mode 3 = invisible), and that page is put UNDER the
scan as a form XObject (pikepdf `add_underlay`), scaled to the page: the page renders exactly as before, and text
search / copy finds the words where they are on the scan. A page tesseract cannot read is left as it was (logged;
never fatal: the scan is still the document). One tesseract process per page, each limited to one thread
(OMP_THREAD_LIMIT=1), up to `workers` at a time.

Seal: `kiosk.outbox.seal.Sealer` (PAdES B-B, invisible field) on every document, after the text layer.

`Preparer(sealer)` is the callable the outbox takes: `(DocumentRef, bytes) -> bytes`, idempotent (a sealed file
comes back as it was; a page with text is not OCR'd again).

Off the citizen's wait: the OCR of a document can start before the citizen confirms (`Preparer.warm`, called by
the session when the review screen opens, while the citizen reads and types the one-time code). The preparation
after confirming then finds the text layer done for a document whose bytes are the same (keyed by SHA-256), and
only seals it. Warmed results live in memory only, a few at most, and are dropped when the session ends
(`forget_warm`); a document that was not warmed is read as before.
"""
from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from typing import Any

import pikepdf

from kiosk.outbox.seal import Sealer, SealError

log = logging.getLogger("kiosk.outbox.prepare")

OCR_DPI_MIN, OCR_DPI_MAX = 200, 300  # a page is read at its scan's resolution, within these bounds
OCR_LANG = "vie"
PAGE_TIMEOUT_S = 120.0  # one page's render + OCR; a stuck tesseract must not hold the outbox forever
MAX_PAGE_TEXT_BYTES = 256 * 1024  # a text-only page from tesseract is a few KB; more is not what we asked for
#: At most one tesseract per core at a time, whatever number of documents are being prepared side by side.
_OCR_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None and shutil.which("pdftoppm") is not None


def _has_fonts(resources: pikepdf.Object, depth: int = 0) -> bool:
    fonts = resources.get("/Font")
    if fonts is not None and len(fonts.keys()) > 0:
        return True
    xobjects = resources.get("/XObject") or pikepdf.Dictionary()
    return depth < 3 and any(x.get("/Subtype") == "/Form" and _has_fonts(x.get("/Resources") or pikepdf.Dictionary(),
                                                                          depth + 1) for x in xobjects.values())


def _needs_text(page: pikepdf.Page) -> bool:
    """A scanned page: images, and no font of its own or in its forms (the text layer is such a form)."""
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    if _has_fonts(resources):
        return False
    xobjects = resources.get("/XObject")
    return xobjects is not None and any(x.get("/Subtype") == "/Image" for x in xobjects.values())


def _run(cmd: list[str], data: bytes, env: dict[str, str]) -> bytes:
    done = subprocess.run(cmd, input=data, capture_output=True, timeout=PAGE_TIMEOUT_S, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {done.returncode}: {done.stderr[-300:].decode(errors='replace')}")
    return done.stdout


def scan_dpi(page: pikepdf.Page) -> int:
    """The resolution the page was scanned at (its widest image over the page width), within the OCR bounds:
    reading a 200 dpi scan at 300 dpi costs twice the time and finds nothing more."""
    width_in = float(page.mediabox[2] - page.mediabox[0]) / 72 or 1.0
    xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject") or pikepdf.Dictionary()
    widths = [int(x.get("/Width", 0)) for x in xobjects.values() if x.get("/Subtype") == "/Image"]
    native = round(max(widths, default=0) / width_in)
    return min(OCR_DPI_MAX, max(OCR_DPI_MIN, native))


def ocr_page(single_page_pdf: bytes, *, dpi: int = OCR_DPI_MIN, lang: str = OCR_LANG) -> bytes:
    """A text-only PDF (one page, invisible text) of what tesseract reads on a one-page PDF."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with _OCR_SLOTS, tempfile.TemporaryDirectory(prefix="kiosk-ocr-") as tmp:  # pdftoppm cannot write PNG to stdout
        _run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-", os.path.join(tmp, "page")],
             single_page_pdf, env)
        with open(os.path.join(tmp, "page.png"), "rb") as f:
            png = f.read()
    text_pdf = _run(["tesseract", "stdin", "stdout", "-l", lang, "--dpi", str(dpi), "-c", "textonly_pdf=1",
                     "pdf"], png, env)
    if not text_pdf.startswith(b"%PDF") or len(text_pdf) > MAX_PAGE_TEXT_BYTES:
        raise RuntimeError("tesseract did not answer a text-only PDF")
    return text_pdf


def add_text_layer(pdf_bytes: bytes, *, workers: int | None = None, dpi: int | None = None,
                   lang: str = OCR_LANG) -> bytes:
    """The PDF with an invisible text layer under each scanned page (the same bytes when no page needs one)."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        todo = [i for i, page in enumerate(pdf.pages) if _needs_text(page)]
        if not todo:
            return pdf_bytes
        singles: dict[int, bytes] = {}
        for i in todo:
            one = pikepdf.new()
            one.pages.append(pdf.pages[i])
            buf = io.BytesIO()
            one.save(buf)
            singles[i] = buf.getvalue()
        n = workers or max(1, min(len(todo), os.cpu_count() or 1))
        layers: dict[int, bytes] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=n, thread_name_prefix="ocr") as pool:
            futures = {pool.submit(ocr_page, singles[i], dpi=dpi or scan_dpi(pdf.pages[i]), lang=lang): i
                       for i in todo}
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                try:
                    layers[i] = future.result()
                except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                    log.warning("OCR of page %d failed, left without a text layer: %s", i + 1, str(e)[:200])
        if not layers:
            return pdf_bytes
        for i, text_pdf in sorted(layers.items()):
            with pikepdf.open(io.BytesIO(text_pdf)) as text:
                page = pdf.pages[i]
                form = pdf.copy_foreign(text.pages[0].as_form_xobject())
                # pikepdf's type stub lacks shrink/expand; the method takes them (pikepdf >= 8)
                page.add_underlay(form, pikepdf.Rectangle(page.mediabox),  # type: ignore[call-arg]
                                  shrink=True, expand=True)
        out = io.BytesIO()
        pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        log.info("OCR text layer added to %d of %d pages", len(layers), len(pdf.pages))
        return out.getvalue()


WARM_LIMIT = 8  # documents whose text layer may wait in memory for the citizen's confirmation


class Preparer:
    """What the outbox does to each document before its first upload: OCR text layer (scans), then the seal.
    `sealer=None`: a kiosk not enrolled for sealing (no seal certificate) sends its documents unsealed; a
    SealError (the key or certificate on disk is unusable) is raised for every document, so the outbox holds
    the dossiers back for the technician instead of sending them unsealed."""

    def __init__(self, sealer: Sealer | SealError | None, *, ocr: bool = True, workers: int | None = None) -> None:
        self.sealer = sealer
        self.ocr = ocr and ocr_available()
        self.workers = workers
        if ocr and not self.ocr:
            log.warning("tesseract or pdftoppm is missing: scans are sent without a text layer")
        self._warm: collections.OrderedDict[str, concurrent.futures.Future[bytes]] = collections.OrderedDict()
        self._warm_lock = threading.Lock()
        self._warm_pool: concurrent.futures.ThreadPoolExecutor | None = None

    def warm(self, data: bytes) -> None:
        """Start the text layer of a document not confirmed yet, in the background (one document at a time)."""
        if not self.ocr or not data:
            return
        key = hashlib.sha256(data).hexdigest()
        with self._warm_lock:
            if key in self._warm:
                return
            while len(self._warm) >= WARM_LIMIT:
                self._warm.popitem(last=False)[1].cancel()
            if self._warm_pool is None:
                self._warm_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-warm")
            self._warm[key] = self._warm_pool.submit(add_text_layer, data, workers=self.workers)

    def forget_warm(self) -> None:
        """The session ended: drop every warmed result (they hold the citizen's papers)."""
        with self._warm_lock:
            for future in self._warm.values():
                future.cancel()
            self._warm.clear()

    def _text_layer(self, data: bytes) -> bytes:
        with self._warm_lock:
            future = self._warm.pop(hashlib.sha256(data).hexdigest(), None)
        if future is not None and not future.cancelled():
            try:
                return future.result(timeout=PAGE_TIMEOUT_S * 4)
            except Exception:  # noqa: BLE001 - the warm-up failed: read it now, as if it had not been warmed
                log.warning("warmed text layer failed: reading the document again")
        return add_text_layer(data, workers=self.workers)

    def __call__(self, document: Any, data: bytes) -> bytes:
        if isinstance(self.sealer, SealError):
            raise self.sealer
        if Sealer.is_sealed(data):
            return data  # prepared before (a crash after its commit): nothing more to add
        if self.ocr:
            data = self._text_layer(data)
        if self.sealer is not None:
            data = self.sealer.seal(data)
        return data


__all__ = ["Preparer", "add_text_layer", "ocr_page", "ocr_available", "scan_dpi", "OCR_LANG"]
