"""The login step's doors of issue 11, driven through `Session.send(...)` against the real sandbox:
the kiosk's own VNeID QR (device grant), the chip ID card (fake reader, and once the real pcscd virtual card),
and the assisted path (a clerk's staff PIN, the citizen's chip or QR-only identity, the dossier submitted on
the citizen's behalf and marked so at the portal)."""
from __future__ import annotations

import logging
import re

import httpx
import pytest

from drivers.fakes.chip import FakeChipReader
from kiosk.session import login_doors
from kiosk.session.machine import State
from session_fixtures import (  # noqa: F401  (fixtures)
    ID_CARD_NUMBER,
    ID_CARD_QR,
    LOGIN_LEVEL2,
    birth_form_values,
    kiosk,
    portal,
    sandbox_server,
    shared_outbox,
)

STAFF_ID, STAFF_PIN = "CB-0001", "246810"  # kiosk.sandbox.oidc.STAFF_ACCOUNTS (test data)


def phone(k, action: str, login_code: str = LOGIN_LEVEL2) -> httpx.Response:
    """The citizen's VNeID app scans the QR on screen and approves (or denies) it."""
    qr = k.data.login.qr
    return httpx.post(f"{k.sandbox.url}/api/v1/sandbox/oidc/{action}",
                      json={"user_code": qr.user_code, "login_code": login_code}, timeout=5)


@pytest.fixture
def k(kiosk):  # noqa: F811
    kiosk.services.sleep = lambda seconds: None  # the QR poll's interval: the test decides when to poll
    kiosk.services.chip_reader = FakeChipReader(base_delay=0.0, photo_delay=0.0)
    return kiosk


def run_jobs(k, n: int = 1) -> None:
    """Run the next n pending jobs other than the armed code read (which waits for a code in front of it)."""
    for _ in range(n):
        for _ in range(len(k.runner.jobs)):
            if not k._is_read_job(k.runner.jobs[0]):
                break
            k.runner.jobs.rotate(-1)
        else:
            raise AssertionError("no job but the code read")
        k.runner.run_next()


def read_code(k, text: str) -> None:
    """The citizen holds a code (the ID card's front QR) up to the code reader and it is read."""
    k.reader.present(text)
    for _ in range(len(k.runner.jobs)):
        if k._is_read_job(k.runner.jobs[0]):
            k.runner.run_next()
            return
        k.runner.jobs.rotate(-1)
    raise AssertionError("no code read armed")


def door_jobs(k) -> int:
    return sum(not k._is_read_job(j) for j in k.runner.jobs)


def open_qr(k):
    k.to_login()
    k.send("login_door", door="qr_shown")
    run_jobs(k)  # the device authorization: the QR to show
    st = k.data.login
    assert st.step == "qr" and st.qr_state == "waiting" and st.qr is not None
    assert st.qr.qr_text.startswith(k.sandbox.url) and st.qr.user_code in st.qr.qr_text
    return st


# ------------------------------------------------------------------------------------------ door 1: the QR
def test_qr_shown_approved_goes_to_the_form_prefilled(k):
    st = open_qr(k)
    run_jobs(k)  # one poll: still waiting
    assert st.qr_state == "waiting" and k.state is State.LOGIN
    assert phone(k, "approve").status_code == 200
    run_jobs(k)  # the poll sees the approval
    assert st.qr_state == "approved" and k.data.busy
    run_jobs(k)  # the portal opens the session from the ID token
    assert k.state is State.FORM, k.data.error
    assert k.data.citizen.id_number == "001099012345"
    assert k.data.form_values.get("declarant_full_name") == "Nguyễn Văn An", k.data.form_values


def test_qr_denied_says_so_and_offers_a_new_code(k):
    st = open_qr(k)
    phone(k, "deny")
    run_jobs(k)
    assert st.qr_state == "denied" and k.state is State.LOGIN
    msg = k.data.error
    assert msg.kind == "oidc_denied" and "từ chối" in msg.title and "Tạo mã mới" in msg.next_step
    old = st.qr.user_code
    k.send("retry")
    run_jobs(k)
    assert k.data.error is None and st.qr_state == "waiting" and st.qr.user_code != old


def test_qr_expired_is_replaced_at_once(k):
    st = open_qr(k)
    old = st.qr.user_code
    k.sandbox.store.advance_clock(61)
    try:
        run_jobs(k)  # the poll: expired_token
    finally:
        k.sandbox.store.advance_clock(-61)  # the module's sandbox is shared
    assert st.qr_state == "waiting"  # a new QR was asked for at once
    run_jobs(k)
    assert st.qr.user_code != old and st.step == "qr" and k.state is State.LOGIN
    assert phone(k, "approve").status_code == 200
    run_jobs(k, 2)
    assert k.state is State.FORM


def test_qr_expired_message_when_renewal_fails(k):
    st = open_qr(k)
    k.send("_qr_poll_failed", error=_rejected("oidc_expired"), gen=st.gen, _epoch=k.session.epoch)
    assert st.qr_state == "waiting"
    # the renewal itself fails: the citizen reads why and what to do
    k.send("_qr_failed", error=_rejected("oidc_unavailable"), gen=st.gen, _epoch=k.session.epoch)
    assert k.data.error.kind == "oidc_unavailable" and "Tạo mã mới" in k.data.error.next_step


def _rejected(code):
    from kiosk.portal.oidc import IdentityRejected
    return IdentityRejected("test", code=code)


def test_qr_renews_before_it_expires(k):
    st = open_qr(k)
    old = st.qr
    k.clock.advance(old.expires_at - k.clock() - 4)  # 4 s left: inside RENEW_BEFORE_SECONDS
    k.send("touch")  # the citizen is still here
    run_jobs(k)  # the poll (pending) notices the renewal is due
    run_jobs(k)  # the new device authorization
    assert st.qr_renewals == 1 and st.qr.user_code != old.user_code and st.qr_state == "waiting"
    assert phone(k, "approve").status_code == 200
    run_jobs(k, 2)
    assert k.state is State.FORM


def test_qr_cancel_drops_the_late_approval(k):
    st = open_qr(k)
    phone(k, "approve")
    k.send("cancel")
    if k.state is State.LOGIN:  # cancel is asked first
        k.send("cancel", confirm=True)
    k.runner.run_all(limit=5)
    assert k.state is State.ATTRACT and k.data.login is None and k.data.citizen is None
    assert st.gen > 0


def test_qr_inactivity_wipes_while_waiting_for_the_phone(k):
    open_qr(k)
    k.clock.advance(k.session.timeouts()[0] + 1)
    k.session.tick()
    assert k.state is State.ATTRACT and k.data.login is None
    k.runner.run_all(limit=5)
    assert k.state is State.ATTRACT


# ------------------------------------------------------------------------------------------ door 2: the chip
def open_chip(k, qr: str = ID_CARD_QR):
    k.to_login()
    k.send("login_door", door="chip")
    st = k.data.login
    assert st.step == "id_qr"
    k.services.chip_reader.present()
    read_code(k, qr)  # the card's front QR to the code reader
    return st


def test_chip_read_from_the_card_qr_then_a_clerk(k, caplog):
    st = open_chip(k)
    assert st.chip_keys == FakeChipReader.DEMO_KEYS and st.step == "card" and k.data.busy
    with caplog.at_level(logging.INFO, logger="kiosk.session.login"):
        run_jobs(k)
    assert st.chip is not None and st.chip.passive_auth.ok and st.identity_source == "chip_pa"
    assert st.step == "staff_pin" and k.data.error is None
    assert st.chip_seconds is not None
    assert any("chip read and verified" in r.getMessage() for r in caplog.records)
    assert not any(ID_CARD_NUMBER in r.getMessage() for r in caplog.records)


def test_chip_read_time_in_a_session_with_realistic_delays(k, caplog, record_property):
    k.services.chip_reader = FakeChipReader()  # the default delays: BAC + DG1 + DG13 + SOD ~1.2 s, DG2 ~2 s
    st = open_chip(k)
    run_jobs(k)
    assert st.chip is not None, k.data.error
    record_property("chip_seconds", st.chip_seconds)
    print(f"\nchip read inside the session (fake reader, default delays): {st.chip_seconds:.2f} s")
    assert 3.0 <= st.chip_seconds < login_doors.CHIP_READ_SECONDS


@pytest.mark.parametrize("fault, kind, step", [("not_trusted", "card_not_trusted", "counter"),
                                                ("removed", "card_removed", "card"),
                                                ("gone", "chip_device_gone", "choose_qr_only"),
                                                ("timeout", "chip_timeout", "card")])
def test_chip_failure_is_plain_and_never_trusted(k, fault, kind, step):
    k.services.chip_reader = FakeChipReader(base_delay=0.0, photo_delay=0.0, fault=fault)
    login_doors_wait, login_doors.CHIP_WAIT_SECONDS = login_doors.CHIP_WAIT_SECONDS, 0.05
    try:
        st = open_chip(k)
        run_jobs(k)
    finally:
        login_doors.CHIP_WAIT_SECONDS = login_doors_wait
    msg = k.data.error
    assert msg is not None and msg.kind == kind, msg
    assert msg.title and msg.next_step and not re.search(r"[A-Za-z]+Error|Exception", msg.text)
    assert st.chip is None and st.identity_source != "chip_pa" and st.step == step
    assert k.state is State.LOGIN and not k.data.busy
    # nothing entered is lost: the card's QR fields, the procedure and the consent are still there
    assert k.data.id_card and k.data.consented and k.data.procedure is not None
    if fault == "not_trusted":
        assert st.chip_blocked and st.chip_keys is None
        k.send("retry")
        assert door_jobs(k) == 0  # an untrusted card is never read again in this session
        k.send("staff_pin", staff_id=STAFF_ID, pin=STAFF_PIN)
        run_jobs(k)
        k.send("use_id_qr")
        assert door_jobs(k) == 0 and k.state is State.LOGIN  # nor let through by its QR


def test_chip_removed_then_put_back_reads(k):
    k.services.chip_reader = FakeChipReader(base_delay=0.0, photo_delay=0.0, fault="removed")
    st = open_chip(k)
    run_jobs(k)
    assert k.data.error.kind == "card_removed" and "giữ" in k.data.error.next_step.lower()
    k.services.chip_reader.fault = ""
    k.services.chip_reader.present()
    k.send("retry")
    run_jobs(k)
    assert st.chip is not None and k.data.error is None and st.step == "staff_pin"


def test_chip_cancel_during_the_read(k):
    st = open_chip(k)
    assert k.data.busy
    k.send("cancel")
    if k.state is State.LOGIN:
        k.send("cancel", confirm=True)
    assert k.state is State.ATTRACT and k.data.login is None
    k.runner.run_all(limit=5)  # the late chip result is dropped
    assert k.state is State.ATTRACT and k.data.login is None and st.chip is None


def test_chip_inactivity_wipes_even_when_the_reader_hangs(k):
    from kiosk.session.machine import BUSY_CEILING_SECONDS
    st = open_chip(k)
    assert k.data.busy  # the read is work the citizen watches: it pauses the timer, but only so long
    k.session.tick()
    k.clock.advance(BUSY_CEILING_SECONDS + 1)
    k.session.tick()
    assert k.state is State.ATTRACT and k.data.login is None
    k.runner.run_all(limit=5)  # the late chip result is dropped
    assert k.state is State.ATTRACT and k.data.login is None and st.chip is None


# ------------------------------------------------------------------------------------------ door 3: assisted
def staff_view(k, code: str) -> dict:
    token = httpx.post(f"{k.sandbox.url}/api/v1/staff/login",
                       json={"staff_id": STAFF_ID, "pin": STAFF_PIN, "kiosk_id": "x"}, timeout=5).json()["staff_token"]
    r = httpx.get(f"{k.sandbox.url}/api/v1/staff/dossiers/{code}", headers={"Authorization": f"Bearer {token}"},
                  timeout=5)
    r.raise_for_status()
    return r.json()


def finish_dossier(k):
    """From the form (prefilled from the chip or the card's QR) to the done screen."""
    assert k.state is State.FORM, k.data.error
    for field, value in birth_form_values().items():
        if field not in k.data.form_values or not k.data.form_values[field]:
            k.send("set", field=field, value=value)
        else:
            k.send("set", field=field, value=value)
    k.send("next")
    assert k.state is State.DOCUMENTS, k.data.form_errors
    k.scan_all()
    k.send("next")
    k.settle()
    assert k.state is State.OTP, k.data.error
    k.send("submit_code", code=k.the_code())
    run_jobs(k)
    assert k.state is State.SUBMITTING, k.data.error
    run_jobs(k)
    assert k.state is State.DONE, (k.data.error, k.data.busy, list(k.runner.jobs))
    k.settle()
    return k.data.dossier_code


def test_staff_pin_wrong_is_plain(k):
    k.to_login()
    k.send("login_door", door="assisted")
    k.send("staff_pin", staff_id=STAFF_ID, pin="000000")
    run_jobs(k)
    assert k.data.error.kind == "staff_pin_wrong" and k.data.login.staff is None and k.state is State.LOGIN


def test_assisted_with_the_chip_submits_on_the_citizens_behalf(k):
    k.to_login()
    k.send("login_door", door="assisted")
    st = k.data.login
    assert st.step == "staff_pin"
    k.send("staff_pin", staff_id=STAFF_ID, pin=STAFF_PIN)
    run_jobs(k)
    assert st.staff is not None and st.step == "id_qr", k.data.error
    k.services.chip_reader.present()
    read_code(k, ID_CARD_QR)  # BAC keys
    run_jobs(k)  # the chip
    assert st.chip is not None and st.identity_source == "chip_pa", k.data.error
    run_jobs(k)  # the assisted session
    assert k.state is State.FORM, k.data.error
    assert k.data.citizen.id_number == ID_CARD_NUMBER
    code = finish_dossier(k)
    view = staff_view(k, code)
    assert view["identity_source"] == "chip_pa"
    assert view["assisted_by"] == "Trần Thị Hoa (CB-0001)"
    assert view["identity_check_required"] is True and view["verification_counter"] == "Quầy xác thực"
    assert re.fullmatch(r"[0-9a-f]{64}", view["sod_sha256"])
    assert login_doors.assisted(k.session)["identity_source"] == "chip_pa"
    note = k.session._receipt_data().assisted_note
    assert "nộp với sự hỗ trợ" in note and "kiểm tra" in note and "Quầy xác thực" in note
    assert k.data.ticket is not None and k.data.ticket.counter == "Quầy xác thực"


def test_vneid_login_has_no_assisted_note(k):
    k.to_form()
    assert login_doors.assisted(k.session) is None and login_doors.receipt_note(k.session) == ""


def test_assisted_qr_only_when_the_chip_cannot_be_read(k):
    k.services.chip_reader = FakeChipReader(base_delay=0.0, photo_delay=0.0, fault="gone")
    k.to_login()
    k.send("login_door", door="assisted")
    k.send("staff_pin", staff_id=STAFF_ID, pin=STAFF_PIN)
    run_jobs(k)
    read_code(k, ID_CARD_QR)
    run_jobs(k)
    st = k.data.login
    assert k.data.error.kind == "chip_device_gone" and st.step == "choose_qr_only"
    k.send("use_id_qr")
    run_jobs(k)
    assert k.state is State.FORM and st.identity_source == "qr_only", k.data.error
    code = finish_dossier(k)
    view = staff_view(k, code)
    assert view["identity_source"] == "qr_only" and view["identity_check_required"] is True
    assert view["sod_sha256"] is None and view["assisted_by"].endswith("(CB-0001)")


# ------------------------------------------------------------------------------------------ the real pcscd
from tests.chip_fixtures import *  # noqa: E402,F401,F403  (pcscd_vpcd, vpcd_slot, chip_reader, insert_card, ...)


def test_chip_door_on_the_real_pcscd_virtual_card(k, chip_reader, insert_card, caplog):
    """Once through the real stack: pcscd + vpcd + our virtual CCCD, BAC, secure messaging and passive
    authentication against the test CSCA, inside the session."""
    from tests.vcard import default_profile

    p = default_profile()
    insert_card(p)
    k.services.chip_reader = chip_reader
    k.to_login()
    k.send("login_door", door="chip")
    k.send("mrz", text=p.mrz())
    st = k.data.login
    assert st.step == "card" and k.data.busy, k.data.error
    with caplog.at_level(logging.INFO, logger="kiosk.session.login"):
        run_jobs(k)
    assert st.chip is not None and st.chip.passive_auth.ok, k.data.error
    assert re.fullmatch(r"[0-9a-f]{64}", st.chip.sod_sha256) and st.step == "staff_pin"
    print(f"\nchip read inside the session (pcscd + vpcd virtual card, with DG2): {st.chip_seconds:.2f} s")
    assert st.chip_seconds < login_doors.CHIP_READ_SECONDS


def test_a_clerk_signs_in_with_their_own_vneid_then_the_citizens_card(k):
    """Mode 1 for the clerk: at the clerk's step a VNeID code read signs the CLERK in (their registered staff
    account), never the citizen; a VNeID account that is not staff is refused plainly."""
    k.to_login()
    k.send("login_door", door="assisted")
    st = k.data.login
    read_code(k, "VNEID-TEST-0001")  # a citizen's VNeID, not a clerk's
    run_jobs(k)
    assert k.data.error.kind == "staff_not_registered" and st.staff is None and k.data.citizen is None
    assert k.state is State.LOGIN and st.step == "staff_pin"
    read_code(k, "VNEID-STAFF-0001")
    run_jobs(k)
    assert st.staff is not None and st.staff.staff.staff_id == "CB-0001" and st.step == "id_qr", k.data.error
    assert k.data.citizen is None and k.state is State.LOGIN  # the clerk is signed in, no citizen yet
    k.services.chip_reader.present()
    read_code(k, ID_CARD_QR)
    run_jobs(k, 2)  # the chip, then the assisted session
    assert k.state is State.FORM and st.identity_source == "chip_pa", k.data.error
    assert login_doors.assisted(k.session)["helper"] == "Trần Thị Hoa (CB-0001)"
