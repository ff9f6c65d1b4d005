"""Issue 14: results by post. Where the procedure allows it, the form offers "Nhận kết quả qua bưu điện" with the
address prefilled from VNeID and editable; the postage (set per centre in config) is a fee line on the review and
on the receipt; the choice reaches the portal with the dossier."""
from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from drivers.escpos_decode import decode_raster, stack_vertically
from kiosk.domain import forms
from kiosk.domain.catalog import load_catalog
from kiosk.session.machine import State
from portal_fixtures import sandbox_server  # noqa: F401  (fixture)
from session_fixtures import BIRTH, Kiosk, birth_form_values, kiosk, portal, shared_outbox  # noqa: F401

VNEID_ADDRESS = "Số 12 Tràng Tiền, phường Hoàn Kiếm, thành phố Hà Nội"  # VNEID-TEST-0001's, in the sandbox
NEW_ADDRESS = "Số 5 ngõ 12 phố Huế, phường Hai Bà Trưng, thành phố Hà Nội"


def _stored(k: Kiosk) -> dict:
    return next(d for d in k.sandbox.store.all_dossiers() if d["local_reference"] == k.data.local_reference)


def _through_the_form(k: Kiosk, *, by_post: bool, address: str | None = None) -> None:
    k.to_form()
    for field, value in birth_form_values().items():
        k.send("set", field=field, value=value)
    if by_post:
        k.send("set", field=forms.DELIVERY_FIELD, value=forms.BY_POST)
    if address is not None:
        k.send("set", field=forms.DELIVERY_ADDRESS_FIELD, value=address)
    k.send("next")


def test_the_form_offers_the_post_only_where_the_procedure_allows_it() -> None:
    catalog = load_catalog()
    birth, marriage = catalog.get(BIRTH), catalog.get("1.000894")
    assert "post" in birth.result_delivery and "post" not in marriage.result_delivery
    ids = [f.id for f in forms.with_delivery(birth, 25_000).form]
    assert ids[-2:] == [forms.DELIVERY_FIELD, forms.DELIVERY_ADDRESS_FIELD]
    once = forms.with_delivery(birth, 25_000)
    assert forms.with_delivery(once, 25_000).form == once.form  # idempotent
    assert forms.with_delivery(marriage, 25_000) is marriage
    choice = forms.with_delivery(birth, 30_000).form[-2]
    assert forms.BY_POST in choice.choices and "30.000 đ" in choice.help


def test_the_address_is_asked_only_by_post_prefilled_and_required(kiosk: Kiosk) -> None:
    kiosk.to_form()
    d = kiosk.data
    assert d.form_values[forms.DELIVERY_FIELD] == forms.AT_OFFICE  # at the centre unless asked otherwise
    assert d.form_values[forms.DELIVERY_ADDRESS_FIELD] == VNEID_ADDRESS  # prefilled from VNeID
    for field, value in birth_form_values().items():
        kiosk.send("set", field=field, value=value)
    form = d.procedure.form
    choice_at = [f.id for f in form].index(forms.DELIVERY_FIELD)
    d.form_index = choice_at
    kiosk.send("next_question")  # at the centre: the address question is skipped
    assert kiosk.state is State.DOCUMENTS
    kiosk.send("back")
    assert kiosk.state is State.FORM and form[d.form_index].id == forms.DELIVERY_FIELD
    kiosk.send("set", field=forms.DELIVERY_FIELD, value=forms.BY_POST)
    kiosk.send("next_question")  # by post: the address comes next, editable
    assert form[d.form_index].id == forms.DELIVERY_ADDRESS_FIELD
    kiosk.send("set", field=forms.DELIVERY_ADDRESS_FIELD, value="")
    kiosk.send("next")
    assert kiosk.state is State.FORM and forms.DELIVERY_ADDRESS_FIELD in d.form_errors  # by post needs an address
    assert "bưu điện" in d.form_errors[forms.DELIVERY_ADDRESS_FIELD]


def test_a_session_by_post_shows_the_postage_on_review_and_receipt_and_sends_the_choice(
        kiosk: Kiosk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kiosk.services.config.postal.postage_vnd = 32_000  # per centre
    # A fixed secret: the read-back below is OCR, and a random one ending in J was once read as "|" before "(".
    monkeypatch.setattr("kiosk.session.machine.new_lookup_secret", lambda: "KX7RF4")
    _through_the_form(kiosk, by_post=True, address=NEW_ADDRESS)
    assert kiosk.state is State.DOCUMENTS, kiosk.data.form_errors
    kiosk.scan_all()
    assert kiosk.data.postage_text.startswith("32.000 đ")  # the review's second fee line
    kiosk.send("next")
    kiosk.settle()
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.settle()
    assert kiosk.state is State.DONE and kiosk.data.delivered, kiosk.data.error
    stored = _stored(kiosk)
    assert stored["result_delivery"] == {"method": "post", "address": NEW_ADDRESS, "postage_vnd": 32_000}
    assert forms.DELIVERY_FIELD not in stored["form"] and forms.DELIVERY_ADDRESS_FIELD not in stored["form"]
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (Debian: tesseract-ocr tesseract-ocr-vie)")
    paper = stack_vertically(decode_raster(kiosk.printer.jobs[0]))  # the printed bytes, decoded and read back
    path = tmp_path / "receipt.png"
    paper.save(path)
    text = subprocess.run(["tesseract", str(path), "-", "-l", "vie", "--psm", "6"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    assert "Cước bưu điện" in flat and "32.000" in flat, flat
    assert "bưu điện" in flat and "Huế" in flat, flat
    assert kiosk.data.lookup_secret == "KX7RF4"  # the kiosk's secret, kept by the portal
    assert kiosk.data.lookup_secret in flat.replace(" ", ""), flat  # the secret, beside the code


def test_at_the_centre_no_postage_and_the_dossier_says_office(kiosk: Kiosk) -> None:
    _through_the_form(kiosk, by_post=False)
    kiosk.scan_all()
    assert kiosk.data.postage_text == ""
    kiosk.send("next")
    kiosk.settle()
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.settle()
    assert kiosk.state is State.DONE
    assert _stored(kiosk)["result_delivery"] == {"method": "office", "address": "", "postage_vnd": 0}
