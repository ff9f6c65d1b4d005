"""The citizen's session state machine, exhaustively: every state's transitions, back and cancel from every step,
inactivity, and each step's happy and unhappy paths against the real catalogue, the sandbox portal on loopback,
a real outbox and fake devices. Work runs only when a test lets it (`ManualRunner`), so busy states and late
results are observable."""
from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable

import pytest

from drivers.fakes.printer import FakePrinter
from drivers.fakes.scanner import FakeScanner
from kiosk.outbox.store import DELIVERED, PENDING, REJECTED
from kiosk.portal.client import PortalClient
from kiosk.sandbox.faults import FaultConfig
from kiosk.sandbox.server import start_sandbox
from kiosk.session.machine import BACK, TIMED_STATES, State
from portal_fixtures import closed_port, doc_ref, fake_pdf, portal_dossiers, submission
from session_fixtures import (  # noqa: F401  (fixtures)
    BIRTH,
    CITIZEN_ADDRESS,
    CITIZEN_ID_NUMBER,
    CITIZEN_NAME,
    ID_CARD_NUMBER,
    ID_CARD_QR,
    KIOSK_ID,
    LOGIN_EXPIRED,
    LOGIN_LEVEL1,
    LOGIN_LEVEL2,
    Kiosk,
    PaperScanner,
    birth_form_values,
    blank_page,
    build_kiosk,
    close_kiosk,
    kiosk,
    portal,
    printed_page,
    sandbox_server,
    shared_outbox,
    small_slip,
)

# ---------------------------------------------------------------------------------------------- where is each step
#: How a citizen reaches each state from a fresh kiosk.
REACH: dict[State, Callable[[Kiosk], None]] = {
    State.ATTRACT: lambda k: None,
    State.PROCEDURE: lambda k: k.send("start"),
    State.PROCEDURE_INFO: lambda k: k.to_procedure_info(),
    State.CONSENT: lambda k: (k.to_procedure_info(), k.send("next")),
    State.LOGIN: lambda k: k.to_login(),
    State.FORM: lambda k: k.to_form(),
    State.DOCUMENTS: lambda k: k.to_documents(),
    State.REVIEW: lambda k: k.to_review(),
    State.OTP: lambda k: k.to_otp(),
    State.SUBMITTING: lambda k: k.to_submitting(),
    State.DONE: lambda k: k.to_done(printed=False),
    State.RATING: lambda k: k.to_rating(printed=False),
    State.STATUS_LOOKUP: lambda k: k.send("status_lookup"),
    State.QUEUE_TICKET: lambda k: (k.send("queue_ticket"), k.settle()),
    State.OUT_OF_SERVICE: lambda k: k.send("out_of_service", reason="test"),
}

def reach(k: Kiosk, state: State) -> None:
    REACH[state](k)
    assert k.state is state


def test_every_state_is_reachable_and_covered_by_the_table() -> None:
    assert set(REACH) == set(State)


# (from, event, payload, to): what a citizen's tap does in each state.
TRANSITIONS = [
    (State.ATTRACT, "start", {}, State.PROCEDURE),
    (State.ATTRACT, "status_lookup", {}, State.STATUS_LOOKUP),
    (State.ATTRACT, "queue_ticket", {}, State.QUEUE_TICKET),
    (State.ATTRACT, "choose", {"code": BIRTH}, State.PROCEDURE_INFO),
    (State.ATTRACT, "next", {}, State.ATTRACT),
    (State.ATTRACT, "out_of_service", {"reason": "maintenance"}, State.OUT_OF_SERVICE),
    (State.PROCEDURE, "choose", {"code": BIRTH}, State.PROCEDURE_INFO),
    (State.PROCEDURE, "choose", {"code": "9.999999"}, State.PROCEDURE),
    (State.PROCEDURE, "search", {"query": "khai sinh"}, State.PROCEDURE),
    (State.PROCEDURE_INFO, "next", {}, State.CONSENT),
    (State.CONSENT, "agree", {}, State.LOGIN),
    (State.CONSENT, "decline", {}, State.ATTRACT),
    (State.LOGIN, "next", {}, State.LOGIN),
    (State.FORM, "next", {}, State.FORM),  # the required fields are still empty
    (State.DOCUMENTS, "next", {}, State.DOCUMENTS),  # nothing scanned yet
    (State.REVIEW, "edit_form", {}, State.FORM),
    (State.REVIEW, "edit_documents", {}, State.DOCUMENTS),
    (State.REVIEW, "next", {}, State.OTP),
    (State.OTP, "next", {"code": ""}, State.OTP),
    (State.SUBMITTING, "next", {}, State.SUBMITTING),
    (State.DONE, "next", {}, State.RATING),
    (State.RATING, "skip", {}, State.ATTRACT),
    (State.RATING, "rate", {"level": 5}, State.ATTRACT),
    (State.STATUS_LOOKUP, "lookup", {"code": ""}, State.STATUS_LOOKUP),
    (State.QUEUE_TICKET, "next", {}, State.ATTRACT),
    (State.OUT_OF_SERVICE, "start", {}, State.OUT_OF_SERVICE),
    (State.OUT_OF_SERVICE, "back_in_service", {}, State.ATTRACT),
    (State.FORM, "out_of_service", {"reason": "maintenance"}, State.FORM),  # never throws a citizen out
]


def test_the_transition_table_starts_from_every_state() -> None:
    assert {start for start, *_ in TRANSITIONS} == set(State)


@pytest.mark.parametrize("start,event,payload,end", TRANSITIONS,
                         ids=[f"{s.value}-{e}-{t.value}" for s, e, _, t in TRANSITIONS])
def test_each_tap_moves_where_the_citizen_expects(kiosk: Kiosk, start: State, event: str, payload: dict,
                                                  end: State) -> None:
    reach(kiosk, start)
    kiosk.send(event, **payload)
    assert kiosk.state is end


def test_an_unknown_procedure_says_so_in_vietnamese(kiosk: Kiosk) -> None:
    kiosk.send("start")
    kiosk.send("choose", code="9.999999")
    assert kiosk.data.error is not None and kiosk.data.error.kind == "unknown_procedure"


# ---------------------------------------------------------------------------------------------- back
#: Where back goes, as the citizen sees it (logged in, back from the form returns to the procedure's page).
BACK_EXPECTED = {
    State.ATTRACT: State.ATTRACT,
    State.PROCEDURE: State.ATTRACT,
    State.PROCEDURE_INFO: State.PROCEDURE,
    State.CONSENT: State.PROCEDURE_INFO,
    State.LOGIN: State.CONSENT,
    State.FORM: State.PROCEDURE_INFO,
    State.DOCUMENTS: State.FORM,
    State.REVIEW: State.DOCUMENTS,
    State.OTP: State.REVIEW,
    State.SUBMITTING: State.SUBMITTING,
    State.DONE: State.DONE,
    State.RATING: State.DONE,
    State.STATUS_LOOKUP: State.ATTRACT,
    State.QUEUE_TICKET: State.ATTRACT,
    State.OUT_OF_SERVICE: State.OUT_OF_SERVICE,
}


def test_back_table_matches_the_machine() -> None:
    assert {s: t for s, t in BACK_EXPECTED.items() if t is not s} == BACK


@pytest.mark.parametrize("state", list(BACK_EXPECTED), ids=lambda s: s.value)
def test_back_from_every_step(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    kiosk.send("back")
    assert kiosk.state is BACK_EXPECTED[state]


def test_back_keeps_what_the_citizen_entered(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    typed = dict(kiosk.data.form_values)
    kiosk.send("scan")
    kiosk.settle()
    kiosk.send("back")
    assert kiosk.state is State.FORM
    assert kiosk.data.form_values == typed
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS
    assert len(kiosk.data.components[0].pages) == 1


def test_back_from_rating_does_not_print_or_queue_again(kiosk: Kiosk) -> None:
    kiosk.to_rating()
    jobs, tickets = len(kiosk.printer.jobs), kiosk.data.ticket
    kiosk.send("back")
    kiosk.settle()
    assert kiosk.state is State.DONE
    assert len(kiosk.printer.jobs) == jobs
    assert kiosk.data.ticket == tickets


# ---------------------------------------------------------------------------------------------- cancel
CANCELLABLE = [s for s in State if s not in (State.SUBMITTING, State.OUT_OF_SERVICE)]


def assert_wiped(k: Kiosk) -> None:
    d = k.data
    assert k.state is State.ATTRACT
    assert d.procedure is None and d.citizen is None and d.form_values == {} and d.components == []
    assert d.otp is None and d.confirmation_token == "" and d.error is None and d.busy == ""
    assert not k.services.portal.logged_in


@pytest.mark.parametrize("state", CANCELLABLE, ids=lambda s: s.value)
def test_cancel_from_every_step_wipes_everything(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    pages = [p.image for c in kiosk.data.components for p in c.pages]
    kiosk.send("cancel")
    assert_wiped(kiosk)
    for image in pages:  # the scans are released, not just forgotten
        with pytest.raises(ValueError):
            image.getpixel((0, 0))


def test_cancel_with_scans_closes_every_page_image(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.settle()
    image = kiosk.data.components[0].pages[0].image
    kiosk.send("cancel")
    assert_wiped(kiosk)
    with pytest.raises(ValueError):
        image.load()


def test_nothing_interrupts_a_confirmed_submission(kiosk: Kiosk) -> None:
    kiosk.to_submitting()
    for event in ("cancel", "back", "timeout", "out_of_service"):
        kiosk.send(event)
        assert kiosk.state is State.SUBMITTING, event
    kiosk.clock.advance(10_000)
    kiosk.session.tick()
    assert kiosk.state is State.SUBMITTING and kiosk.data.confirmation_token and kiosk.data.busy
    kiosk.runner.run_next()
    assert kiosk.state is State.DONE and kiosk.data.dossier_code


def test_out_of_service_waits_for_the_citizen_unless_forced(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.send("out_of_service", reason="scanner broken")
    assert kiosk.state is State.FORM
    kiosk.send("out_of_service", reason="scanner broken", force=True)
    assert kiosk.state is State.OUT_OF_SERVICE and kiosk.data.citizen is None
    assert not kiosk.services.portal.logged_in
    kiosk.send("cancel")
    kiosk.clock.advance(10_000)
    kiosk.session.tick()
    assert kiosk.state is State.OUT_OF_SERVICE


def test_a_kiosk_running_for_weeks_does_not_accumulate_step_history(kiosk: Kiosk) -> None:
    for _ in range(2000):  # about a month of citizens who look and leave
        kiosk.send("start")
        kiosk.send("cancel")
    assert len(kiosk.session.step_durations()) < 1000
    assert kiosk.session.step_durations()[-1]["step"] == "attract"


# ---------------------------------------------------------------------------------------------- inactivity
TIMEOUT, WARNING = 90.0, 20.0
#: Where arriving starts work the citizen waits for (the code being sent, the receipt printing): tested apart.
BUSY_ON_ARRIVAL = {State.OTP, State.DONE}


def test_inactivity_runs_everywhere_but_attract_out_of_service_and_submitting() -> None:
    assert TIMED_STATES == set(State) - {State.ATTRACT, State.OUT_OF_SERVICE, State.SUBMITTING}


@pytest.mark.parametrize("state", sorted(TIMED_STATES - BUSY_ON_ARRIVAL, key=lambda s: s.value),
                         ids=lambda s: s.value)
def test_inactivity_warns_then_wipes(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    notified: list[float | None] = []
    kiosk.session.subscribe(lambda s: notified.append(s.warning_remaining))
    kiosk.clock.advance(TIMEOUT - WARNING - 1)
    kiosk.session.tick()
    assert kiosk.session.warning_remaining is None
    kiosk.clock.advance(1)
    kiosk.session.tick()
    assert kiosk.session.warning_remaining == pytest.approx(WARNING)
    assert notified and notified[-1] == pytest.approx(WARNING)  # the screen was told to show the countdown
    kiosk.clock.advance(WARNING)
    kiosk.session.tick()
    assert_wiped(kiosk)


@pytest.mark.parametrize("state", sorted(BUSY_ON_ARRIVAL, key=lambda s: s.value), ids=lambda s: s.value)
def test_inactivity_waits_for_running_work_then_wipes(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    if state is State.OTP:
        kiosk.send("resend")  # on the done screen the receipt is still printing
    assert kiosk.data.busy
    kiosk.clock.advance(TIMEOUT)
    kiosk.session.tick()
    assert kiosk.state is state  # still printing the receipt / sending the code: the citizen is waiting
    kiosk.settle()
    kiosk.clock.advance(TIMEOUT)
    kiosk.session.tick()
    assert_wiped(kiosk)


def test_a_touch_clears_the_countdown_and_restarts_it(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.clock.advance(TIMEOUT - 5)
    kiosk.session.tick()
    assert kiosk.session.warning_remaining == pytest.approx(5)
    kiosk.session.touch()
    assert kiosk.session.warning_remaining is None
    kiosk.clock.advance(TIMEOUT - WARNING - 1)
    kiosk.session.tick()
    assert kiosk.state is State.FORM and kiosk.session.warning_remaining is None


def test_any_event_counts_as_activity(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.clock.advance(TIMEOUT - 1)
    kiosk.send("set", field="child_full_name", value="Lê")
    kiosk.clock.advance(TIMEOUT - 1)
    kiosk.session.tick()
    assert kiosk.state is State.FORM


def test_a_long_scan_is_not_inactivity(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.clock.advance(TIMEOUT * 3)  # a thick batch: pages keep arriving while the citizen watches
    kiosk.session.tick()
    assert kiosk.state is State.DOCUMENTS and kiosk.session.warning_remaining is None
    kiosk.settle()
    kiosk.clock.advance(TIMEOUT - 1)  # the countdown starts when the scan ends
    kiosk.session.tick()
    assert kiosk.state is State.DOCUMENTS and kiosk.session.warning_remaining is not None
    kiosk.clock.advance(1)
    kiosk.session.tick()
    assert_wiped(kiosk)


@pytest.mark.parametrize("state", [State.ATTRACT, State.OUT_OF_SERVICE, State.SUBMITTING], ids=lambda s: s.value)
def test_no_inactivity_where_nobody_is_in_the_middle_of_something(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    kiosk.clock.advance(TIMEOUT * 10)
    kiosk.session.tick()
    assert kiosk.state is state and kiosk.session.warning_remaining is None


# ---------------------------------------------------------------------------------------------- login
def test_login_with_vneid_code_prefills_the_form(kiosk: Kiosk) -> None:
    kiosk.to_login()
    assert kiosk.reading
    kiosk.reader.present(LOGIN_LEVEL2 + "\r\n")  # a USB scanner in keyboard mode appends CR/LF
    kiosk.runner.run_next()  # the read
    assert kiosk.data.busy  # the portal is being asked: the screen shows a spinner
    kiosk.runner.run_next()  # the login
    assert kiosk.state is State.FORM
    assert kiosk.data.citizen.id_number == CITIZEN_ID_NUMBER
    assert kiosk.data.form_values["declarant_full_name"] == CITIZEN_NAME
    assert kiosk.services.portal.logged_in


@pytest.mark.parametrize("code,kind", [(LOGIN_EXPIRED, "login_code_expired"),
                                       ("VNEID-TEST-9999", "login_code_unknown")])
def test_refused_login_code_explains_and_keeps_reading(kiosk: Kiosk, code: str, kind: str) -> None:
    kiosk.to_login()
    kiosk.present(code)
    assert kiosk.state is State.LOGIN
    assert kiosk.data.error.kind == kind and kiosk.data.busy == ""
    assert kiosk.reading
    kiosk.present(LOGIN_LEVEL2)
    assert kiosk.state is State.FORM and kiosk.data.error is None


@pytest.mark.parametrize("payload,kind", [(ID_CARD_QR, "id_card_at_login"),
                                          ("DVCK1|H38.01-261123-0001", "receipt_at_login")],
                         ids=["id_card", "receipt"])
def test_wrong_kind_of_qr_at_login(kiosk: Kiosk, payload: str, kind: str) -> None:
    kiosk.to_login()
    kiosk.present(payload)
    assert kiosk.state is State.LOGIN and kiosk.data.error.kind == kind
    assert kiosk.reading and not kiosk.services.portal.logged_in


HOSTILE = {
    "oversized": "A" * 100_000,
    "control_chars": "VNEID\x00\x1b[2J-TEST-0001",
    "bidi_override": "VNEID-\u202eTEST-0001",
    "binary_garbage": bytes(range(256)).decode("latin-1"),
    "lone_surrogate": "VNEID-\ud800-TEST",
    "empty": "",
    "only_spaces": "   \r\n",
    "pipes": "|" * 2000,
    "vietqr": "00020101021138560010A0000007270126000697041501121133666688880208QRIBFTTA53037045802VN6304F443",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_payloads_get_a_message_never_an_exception(kiosk: Kiosk, name: str) -> None:
    kiosk.to_login()
    kiosk.present(HOSTILE[name])
    assert kiosk.state is State.LOGIN
    error = kiosk.data.error
    assert error is not None and error.text and error.next_step
    shown = error.title + error.text + error.next_step
    assert unicodedata.is_normalized("NFC", shown)
    fragment = HOSTILE[name].strip()[:12]
    assert not fragment or fragment not in shown  # the payload is never echoed back
    assert kiosk.reading and not kiosk.services.portal.logged_in


def test_reader_spewing_garbage_never_logs_in(kiosk: Kiosk) -> None:
    kiosk.to_login()
    kiosk.reader.set_fault("garbage")
    for _ in range(5):
        kiosk.runner.run_next()
    assert kiosk.state is State.LOGIN and kiosk.data.error is not None
    assert not kiosk.services.portal.logged_in


def test_reader_failure_shows_message_and_retry_rearms(kiosk: Kiosk) -> None:
    kiosk.to_login()
    kiosk.reader.set_fault("gone")
    kiosk.settle()
    assert kiosk.data.error.kind == "device_gone" and not kiosk.reading
    kiosk.reader.set_fault("")
    kiosk.send("retry")
    assert kiosk.reading and kiosk.data.error is None
    kiosk.present(LOGIN_LEVEL2)
    assert kiosk.state is State.FORM


def test_retry_never_arms_a_second_read(kiosk: Kiosk) -> None:
    kiosk.to_login()
    kiosk.reader.set_fault("gone")
    kiosk.settle()
    kiosk.send("cancel")  # the next citizen
    kiosk.reader.set_fault("")
    kiosk.to_login()
    kiosk.send("retry")
    assert sum(kiosk._is_read_job(job) for job in kiosk.runner.jobs) == 1


@pytest.mark.parametrize("leave", ["cancel", "timeout", "back"])
def test_login_result_after_the_citizen_left_is_dropped(kiosk: Kiosk, leave: str) -> None:
    kiosk.to_login()
    kiosk.reader.present(LOGIN_LEVEL2)
    kiosk.runner.run_next()  # read; the login call is now in flight
    kiosk.send(leave)
    kiosk.runner.run_all()  # the portal answers after the citizen left
    assert kiosk.state is not State.FORM and kiosk.data.citizen is None
    assert not kiosk.services.portal.logged_in  # the departed citizen's portal session is not kept


# ---------------------------------------------------------------------------------------------- form
def test_form_errors_keep_typed_values_then_next_goes_to_documents(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.send("set", field="child_full_name", value="Lê Minh Khôi")
    kiosk.send("set", field="child_birth_date", value="31/02/2020")
    kiosk.send("next")
    assert kiosk.state is State.FORM
    assert {"child_birth_date", "child_sex", "birth_place", "mother_full_name"} <= set(kiosk.data.form_errors)
    assert "child_full_name" not in kiosk.data.form_errors
    assert kiosk.data.form_values["child_full_name"] == "Lê Minh Khôi"
    assert kiosk.data.form_values["child_birth_date"] == "31/02/2020"
    for field, value in birth_form_values().items():
        kiosk.send("set", field=field, value=value)
    assert kiosk.data.form_errors == {}  # typing into a field clears its message
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS
    assert [c.id for c in kiosk.data.components] == ["to_khai", "giay_chung_sinh"]


def test_choosing_another_procedure_after_login_starts_its_own_form(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.settle()
    # documents -> the form's last question -> each earlier question -> procedure info -> procedure list
    for _ in range(len(kiosk.data.procedure.form) + 2):
        kiosk.send("back")
    assert kiosk.state is State.PROCEDURE
    kiosk.send("choose", code="2.000884")
    kiosk.send("next")
    assert kiosk.state is State.FORM  # still logged in
    assert kiosk.data.form_values == {"declarant_full_name": CITIZEN_NAME}  # prefilled afresh, no birth answers
    kiosk.send("set", field="document_title", value="Giấy ủy quyền")
    kiosk.send("set", field="signers", value="1")
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS, kiosk.data.form_errors
    assert [c.id for c in kiosk.data.components] == ["giay_to_ky"]  # not the birth papers scanned before
    assert kiosk.data.components[0].pages == []


# ---------------------------------------------------------------------------------------------- documents
def scan(k: Kiosk) -> None:
    k.send("scan")
    assert k.data.scanning and k.data.busy
    k.settle()
    assert not k.data.scanning and k.data.busy == ""


def test_scanning_appends_pages_and_next_moves_to_the_next_component(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.scanner.load(printed_page(), printed_page())
    scan(kiosk)
    first = kiosk.data.components[0]
    assert [p.index for p in first.pages] == [0, 1] and not first.blank
    scan(kiosk)  # a second batch for the same component adds to it
    assert [p.index for p in first.pages] == [0, 1, 2]
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS and kiosk.data.current_component == 1


def test_missing_component_blocks_next(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS and kiosk.data.error.kind == "missing_document"
    scan(kiosk)
    kiosk.send("next")
    kiosk.send("select", component=0)
    kiosk.send("next")  # the first is done: jumps to the one still missing
    assert kiosk.data.current_component == 1 and kiosk.state is State.DOCUMENTS
    kiosk.send("next")
    assert kiosk.data.error.kind == "missing_document"


@pytest.mark.parametrize("choice", ["keep_page", "delete_page"])
def test_blank_page_must_be_kept_or_deleted(kiosk: Kiosk, choice: str) -> None:
    kiosk.to_documents()
    kiosk.scanner.load(printed_page(), blank_page())
    scan(kiosk)
    comp = kiosk.data.components[0]
    assert comp.blank == {1}
    kiosk.send("next")
    assert kiosk.data.error.kind == "blank_page" and kiosk.data.current_component == 0
    kiosk.send(choice, index=1)
    assert len(comp.pages) == (2 if choice == "keep_page" else 1) and not comp.blank
    kiosk.send("next")
    assert kiosk.data.current_component == 1


def test_delete_page_renumbers_and_rescan_replaces(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.scanner.load(blank_page(), printed_page(), blank_page())
    scan(kiosk)
    comp = kiosk.data.components[0]
    assert comp.blank == {0, 2}
    kiosk.send("delete_page", index=0)
    assert len(comp.pages) == 2 and comp.blank == {1}
    kiosk.send("delete_page", index=7)  # a stale tap: nothing happens
    assert len(comp.pages) == 2
    kiosk.send("rescan")
    assert kiosk.data.scanning and comp.pages == []
    kiosk.settle()
    assert len(comp.pages) == 1 and not comp.blank


def fake_scanner_kiosk(tmp_path, portal, **kw) -> Kiosk:
    return build_kiosk(tmp_path, portal, scanner=FakeScanner(delay=0.0, **kw))


def test_jam_at_page_three_keeps_pages_and_resumes(tmp_path, portal) -> None:
    from drivers.page_images import synth_page

    k = fake_scanner_kiosk(tmp_path, portal, fault="jam_at:3", pages=3)
    try:
        k.to_documents()
        k.send("scan")
        k.settle()
        comp = k.data.components[0]
        assert k.data.error.kind == "paper_jam" and not k.data.scanning
        assert len(comp.pages) == 2
        k.send("scan")  # the citizen cleared the jam; the jammed sheet is scanned first
        k.settle()
        assert k.data.error is None
        assert [p.index for p in comp.pages] == [0, 1, 2]
        expected = [synth_page(i, dpi=p.dpi).tobytes() for i, p in enumerate(comp.pages)]
        assert [p.image.tobytes() for p in comp.pages] == expected  # sheets 1..3, in order, none twice
        assert k.scanner.pages_in_feeder == 0
    finally:
        close_kiosk(k)


@pytest.mark.parametrize("fault,kind,kept", [("", "no_documents", 0), ("gone", "device_gone", 1),
                                             ("cover_open", "cover_open", 0)])
def test_scanner_failures_explain_what_to_do(tmp_path, portal, fault: str, kind: str, kept: int) -> None:
    k = fake_scanner_kiosk(tmp_path, portal, fault=fault, pages=0 if kind == "no_documents" else 2)
    try:
        k.to_documents()
        k.send("scan")
        k.settle()
        error = k.data.error
        assert error.kind == kind and error.next_step and not k.data.scanning and k.data.busy == ""
        assert len(k.data.components[0].pages) == kept
        assert k.state is State.DOCUMENTS
    finally:
        close_kiosk(k)


def test_pages_of_a_scan_cancelled_midway_are_dropped(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.send("cancel")
    kiosk.settle()  # the scanner finishes after the citizen left
    assert_wiped(kiosk)


def test_back_and_next_are_ignored_while_scanning(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.send("back")
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS and kiosk.data.scanning
    kiosk.settle()
    assert len(kiosk.data.components[0].pages) == 1


def test_optional_paper_is_offered_and_can_be_skipped(kiosk: Kiosk) -> None:
    """Marital status certificate: the divorce extract (min_pages 0) is asked for, not required."""
    kiosk.to_login(code="1.004873")
    kiosk.present(LOGIN_LEVEL2)
    kiosk.send("set", field="purpose", value="Để kết hôn")
    kiosk.send("set", field="marital_status", value="Chưa kết hôn")
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS, kiosk.data.form_errors
    assert [c.id for c in kiosk.data.components] == ["to_khai", "ly_hon"]
    scan(kiosk)
    kiosk.send("next")
    assert kiosk.state is State.DOCUMENTS and kiosk.data.current_component == 1  # shown, not skipped
    kiosk.send("next")  # the citizen has no divorce extract
    assert kiosk.state is State.REVIEW, kiosk.data.error
    kiosk.send("next")
    kiosk.settle()
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.runner.run_next()
    kiosk.runner.run_next()
    assert kiosk.state is State.DONE and kiosk.data.delivered, kiosk.data.error
    held = next(d for d in portal_dossiers(kiosk.sandbox) if d["dossier_code"] == kiosk.data.dossier_code)
    # the filled declaration form comes first
    assert [doc["component"] for doc in held["documents"]] == ["to_khai_dien_tu", "to_khai"]


# ---------------------------------------------------------------------------------------------- OTP
def test_otp_wrong_codes_lock_then_resend_gives_a_new_code(kiosk: Kiosk) -> None:
    kiosk.to_otp()
    assert kiosk.data.otp_attempts_left == 3 and "09******78" in kiosk.data.notice
    right = kiosk.the_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (2, 1):
        kiosk.send("submit_code", code=wrong)
        kiosk.settle()
        assert kiosk.state is State.OTP and kiosk.data.error.kind == "otp_wrong"
        assert kiosk.data.otp_attempts_left == left
    kiosk.send("submit_code", code=wrong)
    kiosk.settle()
    assert kiosk.data.otp_locked and kiosk.data.error.kind in ("otp_locked", "otp_wrong")
    kiosk.send("submit_code", code=right)  # too late: the code is spent
    kiosk.settle()
    assert kiosk.state is State.OTP
    old_id = kiosk.data.otp.otp_id
    kiosk.send("resend")
    kiosk.settle()
    assert kiosk.data.otp.otp_id != old_id and not kiosk.data.otp_locked and kiosk.data.error is None
    assert kiosk.data.otp_attempts_left == 3
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.runner.run_next()
    assert kiosk.state is State.SUBMITTING


def test_expired_code_asks_for_a_new_one(kiosk: Kiosk) -> None:
    kiosk.to_otp()
    code = kiosk.the_code()
    kiosk.sandbox.store.advance_clock(301)
    kiosk.send("submit_code", code=code)
    kiosk.settle()
    assert kiosk.state is State.OTP and kiosk.data.error.kind == "otp_expired" and kiosk.data.otp_locked
    kiosk.send("back")  # reviewing again and coming back asks for a fresh code by itself
    kiosk.send("next")
    kiosk.settle()
    assert kiosk.data.error is None and not kiosk.data.otp_locked
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.runner.run_next()
    assert kiosk.state is State.SUBMITTING


def test_code_not_sent_while_portal_down_then_resend(kiosk: Kiosk) -> None:
    kiosk.to_review()
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("500",), paths=("/api/v1/otp",)))
    kiosk.send("next")
    kiosk.settle()
    assert kiosk.state is State.OTP and kiosk.data.otp is None
    assert kiosk.data.error.kind == "server_error" and kiosk.data.busy == ""
    kiosk.send("submit_code", code="123456")  # typed before any code came: nothing to check it against
    assert not kiosk.runner.jobs
    kiosk.sandbox.set_faults(None)
    kiosk.send("resend")
    kiosk.settle()
    assert kiosk.data.otp is not None and kiosk.data.error is None


@pytest.mark.parametrize("typed", ["123", "12 34", "abcdef", ""])
def test_short_code_is_refused_without_asking_the_portal(kiosk: Kiosk, typed: str) -> None:
    kiosk.to_otp()
    kiosk.send("submit_code", code=typed)
    assert kiosk.data.error.kind == "otp_short" and not kiosk.runner.jobs
    assert kiosk.data.otp_attempts_left == 3


# ---------------------------------------------------------------------------------------------- submitting
def references_held(k: Kiosk) -> set[str]:
    """The local references of the dossiers the portal holds."""
    return {d["local_reference"] for d in portal_dossiers(k.sandbox)}


def receipt_qr_payload(k: Kiosk) -> str:
    """The QR code on the last receipt printed."""
    from drivers.base import QrBlock

    return next(b.payload for b in k.services.last_receipt.blocks if isinstance(b, QrBlock))


def test_submission_success_shows_the_portals_code(kiosk: Kiosk) -> None:
    kiosk.to_submitting()
    assert kiosk.data.busy
    shown: list[tuple[State, bool]] = []  # what the screen was told, and whether the outbox had it then
    kiosk.session.subscribe(lambda s: shown.append((s.state, kiosk.services.outbox.has(s.data.local_reference))))
    kiosk.runner.run_next()
    assert shown and all(saved for state, saved in shown if state is State.DONE)
    assert kiosk.state is State.DONE and kiosk.data.delivered
    held = {d["dossier_code"]: d for d in portal_dossiers(kiosk.sandbox)}
    assert kiosk.data.dossier_code in held
    assert held[kiosk.data.dossier_code]["local_reference"] == kiosk.data.local_reference
    item = kiosk.services.outbox.get(kiosk.data.local_reference)
    assert item.state == DELIVERED and item.dossier_code == kiosk.data.dossier_code
    assert all(c.pages == [] and c.page_count == 1 for c in kiosk.data.components)  # no raw scans kept


def test_dossier_that_could_not_be_saved_goes_back_to_review_and_can_be_confirmed_again(
        kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.outbox.store import OutboxError

    kiosk.to_submitting()
    def disk_full(*args, **kwargs):
        raise OutboxError("disk_full")

    monkeypatch.setattr(kiosk.services.outbox, "enqueue", disk_full)
    kiosk.runner.run_next()
    assert kiosk.state is State.REVIEW and kiosk.data.error is not None and kiosk.data.error.next_step
    assert not kiosk.services.outbox.has(kiosk.data.local_reference)
    assert all(len(c.pages) == 1 for c in kiosk.data.components)  # nothing the citizen scanned is lost
    monkeypatch.undo()
    kiosk.send("next")
    kiosk.settle()
    assert kiosk.state is State.OTP and kiosk.data.otp is not None and kiosk.data.busy == ""
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.settle()
    assert kiosk.state is State.DONE and kiosk.data.delivered, kiosk.data.error


def test_portal_stopped_mid_submission_goes_offline_with_local_reference(tmp_path) -> None:
    with start_sandbox(tmp_path / "own.sqlite3") as own:
        k = build_kiosk(tmp_path, own)
        try:
            k.to_submitting()
            own.stop()
            k.settle()
            assert k.state is State.DONE and not k.data.delivered and k.data.dossier_code == ""
            ref = k.data.local_reference
            assert ref and k.services.outbox.get(ref).state == PENDING  # on disk before the screen said received
            assert len(k.printer.jobs) == 1  # the receipt; no queue number without the portal
            assert k.data.receipt_printed and k.data.print_error is None
        finally:
            close_kiosk(k)


def test_unreachable_portal_then_later_delivery_and_status_by_local_reference(kiosk: Kiosk) -> None:
    kiosk.to_submitting()
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("reset",), paths=("/api/v1/blobs", "/api/v1/dossiers")))
    kiosk.runner.run_next()
    assert kiosk.state is State.DONE and not kiosk.data.delivered
    ref = kiosk.data.local_reference
    assert kiosk.services.outbox.get(ref).state == PENDING
    assert ref not in references_held(kiosk)
    kiosk.settle()  # the receipt: with the local reference in its QR code
    assert kiosk.data.receipt_printed and kiosk.data.print_error is None
    receipt_qr = receipt_qr_payload(kiosk)
    assert receipt_qr == f"DVCK1|{ref}"
    kiosk.send("next")
    kiosk.send("skip")
    # The network is back; the outbox's sender delivers with a client of its own.
    kiosk.sandbox.set_faults(None)
    with PortalClient(kiosk.sandbox.url, kiosk_id=KIOSK_ID) as sender:
        receipt = kiosk.services.outbox.deliver(ref, sender)
    assert receipt is not None
    kiosk.send("status_lookup")
    kiosk.present(receipt_qr)  # the citizen comes back with the offline receipt
    assert kiosk.data.error is None and kiosk.data.status_view.dossier_code == receipt.dossier_code
    kiosk.send("lookup", code=ref.lower())  # or types the reference printed on it
    kiosk.settle()
    assert kiosk.data.error is None and kiosk.data.status_view.dossier_code == receipt.dossier_code


def test_level1_account_refused_dossier_kept_for_staff(kiosk: Kiosk) -> None:
    kiosk.to_submitting(login=LOGIN_LEVEL1)
    kiosk.runner.run_next()
    assert kiosk.state is State.DONE and not kiosk.data.delivered
    assert kiosk.data.error.kind == "level_insufficient" and kiosk.data.error.next_step
    assert kiosk.services.outbox.get(kiosk.data.local_reference).state == REJECTED
    assert kiosk.data.local_reference not in references_held(kiosk)


# ---------------------------------------------------------------------------------------------- done, rating
def test_done_prints_receipt_and_ticket(kiosk: Kiosk) -> None:
    kiosk.to_submitting()
    kiosk.runner.run_next()  # the submission
    assert kiosk.state is State.DONE and kiosk.data.busy and not kiosk.data.receipt_printed
    kiosk.settle()
    assert kiosk.data.receipt_printed and kiosk.data.busy == "" and kiosk.data.print_error is None
    assert len(kiosk.printer.jobs) == 2
    assert kiosk.data.ticket.number.startswith("A")
    assert receipt_qr_payload(kiosk) == f"DVCK1|{kiosk.data.dossier_code}"  # what the status look-up reads


def test_printer_out_of_paper_sends_the_citizen_to_the_counter(tmp_path, portal) -> None:
    """No 18-character code to copy down (issue 10): the done screen shows the code; the message says where to go."""
    k = build_kiosk(tmp_path, portal, printer=FakePrinter(fault="paper_out", timeout=2.0))
    try:
        k.to_done()
        assert k.data.print_error is not None and "quầy" in k.data.print_error.next_step
        assert "ghi lại" not in k.data.print_error.next_step and k.data.dossier_code
        assert k.data.print_error.kind == "paper_out"
        assert k.data.dossier_code in {d["dossier_code"] for d in portal_dossiers(portal)}
        assert k.printer.jobs == []
    finally:
        close_kiosk(k)


def test_paper_running_out_after_the_receipt_still_shows_the_queue_number(tmp_path, portal) -> None:
    k = build_kiosk(tmp_path, portal, printer=FakePrinter(fault="out_after_n:1", timeout=2.0))
    try:
        k.to_done()
        assert k.data.receipt_printed and len(k.printer.jobs) == 1
        assert k.data.ticket is not None  # the number the portal gave is not lost with the paper
        assert k.data.print_error.kind == "paper_out" and k.data.ticket.number in k.data.print_error.next_step
    finally:
        close_kiosk(k)


def test_rating_reaches_the_portal_and_wipes(kiosk: Kiosk) -> None:
    kiosk.to_rating(printed=False)
    code = kiosk.data.dossier_code
    kiosk.send("rate", level=4)
    assert_wiped(kiosk)
    kiosk.settle()  # the rating is sent after the citizen has gone
    ratings = [r for r in kiosk.sandbox.store.ratings() if r["dossier_code"] == code]
    assert [(r["level"], r["kiosk_id"]) for r in ratings] == [(4, KIOSK_ID)]


# ---------------------------------------------------------------------------------------------- side paths
def delivered_dossier(k: Kiosk) -> str:
    """A dossier the portal already holds (made through the client, not a whole kiosk session)."""
    with PortalClient(k.sandbox.url, kiosk_id=KIOSK_ID) as client:
        client.login(LOGIN_LEVEL2)
        challenge = client.request_otp()
        from portal_fixtures import otp_code

        token = client.verify_otp(challenge.otp_id, otp_code(k.sandbox, challenge.otp_id)).confirmation_token
        pdf = fake_pdf("tờ khai")
        client.upload_blob(pdf)
        return client.submit(submission(token, [doc_ref("to_khai", pdf, 1)]), "KIOSK-TEST-01-000001").dossier_code


def test_status_by_receipt_qr(kiosk: Kiosk) -> None:
    code = delivered_dossier(kiosk)
    kiosk.send("status_lookup")
    assert kiosk.reading
    kiosk.present(f"DVCK1|{code}")
    assert kiosk.data.status_view.dossier_code == code and kiosk.data.error is None
    assert kiosk.reading  # ready for the next receipt


def test_status_by_typed_code_and_unknown_code(kiosk: Kiosk) -> None:
    code = delivered_dossier(kiosk)
    kiosk.send("status_lookup")
    kiosk.send("lookup", code=f"  {code.lower()} ")
    kiosk.settle()
    assert kiosk.data.status_view.dossier_code == code
    kiosk.send("lookup", code="H38.01-261123-9999")
    kiosk.settle()
    assert kiosk.data.error.kind == "dossier_unknown" and kiosk.data.status_view is None


def test_status_with_a_qr_that_is_not_a_receipt(kiosk: Kiosk) -> None:
    kiosk.send("status_lookup")
    kiosk.present(LOGIN_LEVEL2)
    assert kiosk.data.error.kind == "not_a_receipt" and kiosk.reading
    assert not kiosk.services.portal.logged_in


def test_status_lookup_with_portal_down(kiosk: Kiosk) -> None:
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("500",)))
    kiosk.send("status_lookup")
    kiosk.send("lookup", code="H38.01-261123-0001")
    kiosk.settle()
    assert kiosk.data.error.kind == "server_error" and kiosk.data.busy == ""


def test_queue_ticket_only(kiosk: Kiosk) -> None:
    kiosk.send("queue_ticket")
    assert kiosk.data.busy
    kiosk.settle()
    assert kiosk.data.ticket.number.startswith("A") and kiosk.data.print_error is None
    assert len(kiosk.printer.jobs) == 1
    kiosk.send("next")
    assert_wiped(kiosk)


def test_queue_ticket_retry_tapped_while_fetching_takes_one_number(kiosk: Kiosk) -> None:
    kiosk.send("queue_ticket")
    kiosk.send("retry")  # the button reads "Thử lại" until a number shows
    kiosk.settle()
    kiosk.send("retry")
    kiosk.settle()
    assert kiosk.data.ticket is not None and len(kiosk.printer.jobs) == 1


def test_queue_ticket_printer_failure_shows_the_number(tmp_path, portal) -> None:
    k = build_kiosk(tmp_path, portal, printer=FakePrinter(fault="cover_open", timeout=2.0))
    try:
        k.send("queue_ticket")
        k.settle()
        assert k.data.ticket is not None and k.data.ticket.number in k.data.print_error.next_step
        assert "máy in" in k.data.print_error.title.lower()
    finally:
        close_kiosk(k)


def test_queue_ticket_with_portal_down_then_retry(kiosk: Kiosk) -> None:
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("reset",)))
    kiosk.send("queue_ticket")
    kiosk.settle()
    assert kiosk.data.error.kind == "unreachable" and kiosk.data.ticket is None and kiosk.printer.jobs == []
    kiosk.sandbox.set_faults(None)
    kiosk.send("retry")
    kiosk.settle()
    assert kiosk.data.error is None and kiosk.data.ticket is not None and len(kiosk.printer.jobs) == 1


def test_portal_down_at_login(tmp_path, portal) -> None:
    k = build_kiosk(tmp_path, portal, portal_url=f"http://127.0.0.1:{closed_port()}")
    try:
        k.to_login()
        k.present(LOGIN_LEVEL2)
        assert k.state is State.LOGIN and k.data.error.kind == "unreachable" and k.reading
    finally:
        close_kiosk(k)


# ---------------------------------------------------------------------------------------------- privacy
def test_no_personal_data_in_logs(kiosk: Kiosk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    kiosk.to_login()
    kiosk.present(ID_CARD_QR)  # personal data held up at the wrong step
    kiosk.present(LOGIN_LEVEL2)
    for field, value in birth_form_values().items():
        kiosk.send("set", field=field, value=value)
    kiosk.send("next")
    kiosk.scan_all()
    kiosk.send("next")
    kiosk.settle()
    kiosk.send("submit_code", code=kiosk.the_code())
    kiosk.settle()
    assert kiosk.state is State.DONE
    kiosk.send("next")
    kiosk.send("rate", level=5)
    kiosk.settle()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "step otp -> submitting" in logged  # the log did capture the session
    forbidden = [CITIZEN_ID_NUMBER, ID_CARD_NUMBER, CITIZEN_NAME, CITIZEN_ADDRESS, "09******78", LOGIN_LEVEL2,
                 *birth_form_values().values()]
    for secret in forbidden:
        assert secret not in logged
        assert unicodedata.normalize("NFD", secret) not in logged


# ---------------------------------------------------------------------------------------------- any order at all
#: Taps a citizen (or a confused one) can make, with the payloads screens send.
TAPS: list[tuple[str, dict]] = [
    ("start", {}), ("choose", {"code": BIRTH}), ("choose", {"code": "1.004873"}), ("next", {}), ("back", {}),
    ("cancel", {}), ("agree", {}), ("decline", {}), ("scan", {}), ("rescan", {}), ("delete_page", {"index": 0}),
    ("keep_page", {"index": 0}), ("select", {"component": 1}), ("resend", {}), ("retry", {}),
    ("submit_code", {"code": "000000"}), ("status_lookup", {}), ("queue_ticket", {}), ("lookup", {"code": "X-1"}),
    ("skip", {}), ("rate", {"level": 3}), ("edit_form", {}), ("edit_documents", {}), ("dismiss_error", {}),
    *[("set", {"field": f, "value": v}) for f, v in birth_form_values().items()],
]
SHOWN_CODES = [LOGIN_LEVEL2, LOGIN_EXPIRED, ID_CARD_QR, "DVCK1|H38.01-261123-0001", "\x00garbage", "A" * 5000]


def test_any_sequence_of_taps_and_late_results_keeps_the_machine_sound(portal, shared_outbox, tmp_path) -> None:
    """Random taps, codes, clock jumps, and job results delivered in any order (late, early, after the citizen
    left): the machine never raises, and what a citizen could notice stays true after every step."""
    from hypothesis import HealthCheck, settings, strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

    class Citizen(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.k = build_kiosk(tmp_path, portal, outbox=shared_outbox, scanner=PaperScanner(small_slip),
                                 printer=FakePrinter(width_dots=384, profile="POS-5890", timeout=2.0))

        @initialize(start=st.sampled_from(list(State)))
        def somewhere_along_the_way(self, start: State) -> None:
            reach(self.k, start)

        @rule()
        def do_what_the_screen_asks(self) -> None:
            """Wait for the screen, then make the tap that moves this step on (so walks get deep into the spine)."""
            k = self.k
            k.settle()
            if k.state is State.LOGIN:
                k.reader.present(LOGIN_LEVEL2)
            elif k.state is State.FORM:
                for field, value in birth_form_values().items():
                    k.send("set", field=field, value=value)
                k.send("next")
            elif k.state is State.DOCUMENTS:
                k.send("next" if k.session.component is None or k.session.component.complete else "scan")
            elif k.state is State.OTP and k.data.otp is not None:
                k.send("submit_code", code=k.the_code())
            elif k.state is State.RATING:
                k.send("rate", level=5)
            else:
                k.send({State.ATTRACT: "start", State.PROCEDURE: "choose", State.CONSENT: "agree"}.get(k.state, "next"),
                       code=BIRTH)

        def teardown(self) -> None:
            close_kiosk(self.k, keep_outbox=True)

        @rule(tap=st.sampled_from(TAPS))
        def tap(self, tap: tuple[str, dict]) -> None:
            self.k.send(tap[0], **tap[1])

        @rule(text=st.sampled_from(SHOWN_CODES))
        def show_code(self, text: str) -> None:
            self.k.reader.present(text)

        @rule(pick=st.integers(min_value=0, max_value=7))
        def finish_some_work(self, pick: int) -> None:
            """Deliver one pending result, not necessarily the oldest (threads finish in any order). A read with
            nothing in front of the reader stays pending, as a real reader keeps waiting."""
            runnable = [i for i, job in enumerate(self.k.runner.jobs)
                        if not self.k._is_read_job(job) or self.k.reader._pending]
            if runnable:
                index = runnable[pick % len(runnable)]
                self.k.runner.jobs.rotate(-index)
                self.k.runner.run_next()
                self.k.runner.jobs.rotate(index)

        @rule(seconds=st.sampled_from([1.0, 30.0, 75.0, 95.0]))
        def time_passes(self, seconds: float) -> None:
            self.k.clock.advance(seconds)
            self.k.session.tick()

        @invariant()
        def citizen_visible_truths(self) -> None:
            s, d = self.k.session, self.k.data
            assert s.state in State
            if s.state is State.ATTRACT:
                assert d.citizen is None and d.form_values == {} and d.components == [] and d.busy == ""
            if s.state not in TIMED_STATES:
                assert s.warning_remaining is None
            if s.state in (State.DONE, State.RATING) and d.local_reference:
                assert self.k.services.outbox.has(d.local_reference)  # never "received" before it is on disk
            if d.citizen is None and not any(True for _ in self.k.runner.jobs):
                assert not self.k.services.portal.logged_in
            for message in (d.error, d.print_error):
                if message is not None:
                    assert message.title and message.text and message.next_step

    run_state_machine_as_test(Citizen, settings=settings(
        max_examples=10, stateful_step_count=25, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck)))
