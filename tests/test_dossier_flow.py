"""Issue 14 at the state-machine level: a birth registration's dossier as the centre expects it."""
from __future__ import annotations

import subprocess
from pathlib import Path

from kiosk.session.dossier import DECLARATION_COMPONENT, declaration_preview
from kiosk.session.machine import State
from portal_fixtures import sandbox_server  # noqa: F401  (fixture)
from session_fixtures import BIRTH, CITIZEN_ID_NUMBER, CITIZEN_NAME, Kiosk, kiosk, portal, shared_outbox  # noqa: F401


def _dossier(k: Kiosk) -> dict:
    ref = k.data.local_reference
    return next(d for d in k.sandbox.store.all_dossiers() if d["local_reference"] == ref)


def test_review_can_show_the_declaration_as_it_will_be_sent(kiosk: Kiosk) -> None:
    kiosk.to_review()
    preview = declaration_preview(kiosk.session)
    assert preview is not None and preview.width > 500 and preview.getextrema()[0] == 0


def test_the_first_document_is_the_filled_declaration(kiosk: Kiosk, tmp_path: Path) -> None:
    kiosk.to_done()
    assert kiosk.state is State.DONE and kiosk.data.delivered
    docs = _dossier(kiosk)["documents"]
    assert docs[0]["component"] == DECLARATION_COMPONENT and docs[0]["pages"] == 1
    assert len(docs) >= 3  # the declaration, then the scanned components
    pdf = tmp_path / "first.pdf"
    pdf.write_bytes(kiosk.sandbox.store.blob_path(docs[0]["sha256"]).read_bytes())
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text
    assert "Lê Minh Khôi" in text and CITIZEN_ID_NUMBER in text and CITIZEN_NAME in text
