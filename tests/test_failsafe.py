"""The session never crashes and never hangs: any error in a step ends in the failsafe (apology, wipe, attract),
a confirmed dossier still gets its receipt, and every event a screen sends is one the session knows."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from kiosk.errors import UnknownEvent
from kiosk.session.events import ALL_NAMES, Event
from kiosk.session.machine import BUSY_CEILING_SECONDS, FAILSAFE_LIMIT, SUBMIT_DEADLINE_SECONDS, State
from session_fixtures import (  # noqa: F401  (fixtures)
    CITIZEN_ID_NUMBER,
    CITIZEN_NAME,
    Kiosk,
    kiosk,
    portal,
    sandbox_server,
    shared_outbox,
)

REPO = Path(__file__).resolve().parents[1]


def test_a_bad_rating_payload_is_ignored_not_a_crash(kiosk: Kiosk) -> None:
    kiosk.to_rating()
    kiosk.send("rate", level="five")  # raised ValueError out of send() and stopped the app
    assert kiosk.state is State.RATING and not kiosk.session.failures
    kiosk.send("rate", level=4)
    assert kiosk.state is State.ATTRACT


def test_delete_page_without_an_index_is_ignored(kiosk: Kiosk) -> None:
    kiosk.to_documents()
    kiosk.send("scan")
    kiosk.settle()
    pages = len(kiosk.data.components[0].pages)
    kiosk.send("delete_page")  # raised KeyError out of send()
    kiosk.send("delete_page", index="x")
    assert kiosk.state is State.DOCUMENTS and len(kiosk.data.components[0].pages) == pages


def test_an_error_inside_a_step_apologises_wipes_and_returns_to_attract(kiosk: Kiosk, monkeypatch, caplog) -> None:
    kiosk.to_form()
    kiosk.send("set", field="child_name", value=CITIZEN_NAME)

    def broken(*_a, **_k):
        raise RuntimeError(f"bug while reading {CITIZEN_ID_NUMBER} {CITIZEN_NAME}")

    monkeypatch.setattr("kiosk.domain.forms.validate", broken)
    with caplog.at_level(logging.DEBUG):
        kiosk.send("next")
    assert kiosk.state is State.ATTRACT
    assert kiosk.data.error is not None and kiosk.data.error.kind == "failsafe"
    assert kiosk.data.form_values == {} and kiosk.data.citizen is None  # wiped
    assert not kiosk.services.portal.logged_in
    logged = caplog.text
    assert "RuntimeError" in logged and "form" in logged
    assert CITIZEN_ID_NUMBER not in logged and CITIZEN_NAME not in logged


def test_a_screen_that_cannot_draw_ends_in_the_failsafe_not_a_stopped_app(kiosk: Kiosk) -> None:
    def render(session) -> None:
        if session.state is State.PROCEDURE_INFO:
            raise AttributeError("kv rule broke")

    kiosk.session.subscribe(render)
    kiosk.send("start")
    kiosk.send("choose", code="1.001193")  # must not raise
    assert kiosk.state is State.ATTRACT and kiosk.data.error.kind == "failsafe"


def test_an_error_after_confirming_still_gives_the_receipt(kiosk: Kiosk, monkeypatch) -> None:
    kiosk.to_submitting()
    kiosk.runner.run_next()  # saved and delivered: the done screen starts printing
    assert kiosk.state is State.DONE
    monkeypatch.setattr(type(kiosk.session), "_receipt_data", lambda self: 1 / 0)
    kiosk.session.data.print_started = False
    kiosk.session._failsafe(ZeroDivisionError(), "test")  # the failsafe itself must not wipe a confirmed dossier
    assert kiosk.state is State.DONE and kiosk.data.local_reference


def test_an_error_while_submitting_keeps_the_saved_dossier_and_prints(kiosk: Kiosk, monkeypatch) -> None:
    kiosk.to_submitting()
    ref = kiosk.data.local_reference
    job_fn, done = kiosk.runner.jobs.popleft()
    job_fn()  # the dossier is on disk (and delivered) ...
    monkeypatch.setattr(type(kiosk.session), "_on_submitting", lambda self, event, **p: 1 / 0)
    done({"unexpected": "shape"}, None)  # ... and the result handler breaks
    assert kiosk.state is State.DONE and kiosk.data.local_reference == ref
    kiosk.settle()
    assert kiosk.data.receipt_printed or kiosk.data.print_error is not None


def test_repeated_failures_take_the_kiosk_out_of_service(kiosk: Kiosk, monkeypatch) -> None:
    monkeypatch.setattr(type(kiosk.session), "_on_procedure", lambda self, event, **p: 1 / 0)
    for _ in range(FAILSAFE_LIMIT):
        kiosk.send("start")
        kiosk.send("search", query="khai sinh")
    assert kiosk.state is State.OUT_OF_SERVICE


def test_unknown_events_are_errors_in_tests_and_ignored_in_service(kiosk: Kiosk) -> None:
    with pytest.raises(UnknownEvent):
        kiosk.send("nxet")
    kiosk.session.strict = False
    kiosk.send("start")
    kiosk.send("nxet")
    assert kiosk.state is State.PROCEDURE


def test_a_hung_call_does_not_keep_a_walked_away_citizens_data(kiosk: Kiosk) -> None:
    kiosk.to_review()
    kiosk.send("next")  # the one-time code request hangs (never run)
    assert kiosk.state is State.OTP and kiosk.data.busy
    for _ in range(int((BUSY_CEILING_SECONDS + kiosk.session.timeout) / 0.5) + 2):  # the app ticks twice a second
        kiosk.clock.advance(0.5)
        kiosk.session.tick()
    assert kiosk.state is State.ATTRACT and kiosk.data.citizen is None


def test_a_hung_submission_falls_back_to_the_offline_receipt(kiosk: Kiosk) -> None:
    kiosk.to_submitting()
    job_fn, _done = kiosk.runner.jobs.popleft()
    ref = kiosk.data.local_reference
    # the dossier reaches the outbox, then the portal call hangs: simulate by saving without delivering
    import threading
    hung = threading.Event()
    kiosk.services.outbox.deliver = lambda *a, **k: hung.wait(5)
    threading.Thread(target=job_fn, daemon=True).start()
    for _ in range(100):
        if kiosk.services.outbox.has(ref):
            break
        hung.wait(0.05)
    assert kiosk.services.outbox.has(ref)
    kiosk.clock.advance(SUBMIT_DEADLINE_SECONDS + 1)
    kiosk.session.tick()
    assert kiosk.state is State.DONE and not kiosk.data.delivered and kiosk.data.local_reference == ref
    hung.set()


# ---------------------------------------------------------------------------------------------- every send(...)
_SEND = re.compile(r"""\bsend\(\s*['"]([A-Za-z_]+)['"]""")
_SEND_CONDITIONAL = re.compile(r"""\bsend\(\s*['"]([a-z_]+)['"]\s+if\s+[^'"]+\s+else\s+['"]([a-z_]+)['"]""")


def _sent_names() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in [*REPO.glob("screens/*.py"), *REPO.glob("screens/*.kv"), *REPO.glob("kiosk/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        for m in _SEND.finditer(text):
            found.setdefault(m.group(1), []).append(str(path.relative_to(REPO)))
        for m in _SEND_CONDITIONAL.finditer(text):
            for name in m.groups():
                found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def test_every_event_a_screen_or_module_sends_is_known() -> None:
    found = _sent_names()
    assert len(found) > 15, "the scan found too few send(...) calls: the pattern is broken"
    unknown = {name: where for name, where in found.items() if name not in ALL_NAMES}
    assert not unknown, unknown


def test_every_event_the_screens_send_is_handled_somewhere() -> None:
    handled = {name for path in (REPO / "kiosk/session").glob("*.py") if path.name != "events.py"
               for name in re.findall(r"""['"]([a-z_]+)['"]""", path.read_text())}
    for event in Event:
        assert event.value in handled, event
