"""Help on every screen (issue 10): what to do on this step, and "Gọi cán bộ" — a request the portal receives
with the kiosk id and the step, never the citizen's data."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk import messages
from kiosk.portal.models import AssistanceRequest
from kiosk.sandbox.faults import FaultConfig
from kiosk.session.machine import State
from portal_fixtures import sandbox_get
from session_fixtures import (  # noqa: F401  (fixtures)
    CITIZEN_ADDRESS,
    CITIZEN_ID_NUMBER,
    CITIZEN_NAME,
    KIOSK_ID,
    Kiosk,
    kiosk,
    portal,
    sandbox_server,
    shared_outbox,
)
from test_session import REACH, reach


@pytest.mark.parametrize("state", list(State))
def test_every_state_has_its_own_help(state: State) -> None:
    text = messages.HELP.get(state.value)
    assert text and text != messages.HELP_DEFAULT
    assert len(text) <= 220 and text.count(".") <= 3  # one or two sentences, read at arm's length


def _requests(k: Kiosk) -> list[dict]:
    resp = sandbox_get(k.sandbox, "/api/v1/sandbox/assistance")
    resp.raise_for_status()
    return resp.json()


@pytest.mark.parametrize("state", [State.ATTRACT, State.FORM, State.REVIEW, State.OTP, State.DONE])
def test_call_staff_reaches_the_portal_with_kiosk_and_step_only(kiosk: Kiosk, state: State) -> None:
    reach(kiosk, state)
    before = len(_requests(kiosk))
    kiosk.send("call_staff")
    assert kiosk.data.staff_call == "sending"
    kiosk.settle()
    assert kiosk.state is state  # asking for help moves nobody
    assert kiosk.data.staff_call == "sent"
    rows = _requests(kiosk)[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row["kiosk_id"], row["step"]) == (KIOSK_ID, state.value)
    assert set(row) == {"id", "kiosk_id", "step", "requested_at"}
    flat = repr(row)
    for personal in (CITIZEN_NAME, CITIZEN_ID_NUMBER, CITIZEN_ADDRESS):
        assert personal not in flat


def test_call_staff_twice_sends_once_while_sending(kiosk: Kiosk) -> None:
    reach(kiosk, State.FORM)
    before = len(_requests(kiosk))
    kiosk.send("call_staff")
    kiosk.send("call_staff")
    kiosk.settle()
    assert len(_requests(kiosk)) == before + 1


def test_call_staff_answer_survives_a_step_but_not_a_wipe(kiosk: Kiosk) -> None:
    reach(kiosk, State.FORM)
    kiosk.send("call_staff")
    kiosk.send("back")  # the citizen moves on before the answer
    kiosk.settle()
    assert kiosk.data.staff_call == "sent"
    kiosk.send("call_staff")
    kiosk.send("cancel")  # wiped: the next citizen does not inherit the answer
    kiosk.settle()
    assert kiosk.data.staff_call == ""


def test_call_staff_failing_says_go_to_the_counter(kiosk: Kiosk) -> None:
    reach(kiosk, State.REVIEW)
    kiosk.sandbox.set_faults(FaultConfig(fail_rate=1, modes=("500",), paths=("/api/v1/assistance",)))
    try:
        kiosk.send("call_staff")
        kiosk.settle()
    finally:
        kiosk.sandbox.set_faults(None)
    assert kiosk.data.staff_call == "failed"
    assert "quầy" in messages.STAFF_CALL_FAILED


def test_the_request_holds_nothing_but_kiosk_and_step() -> None:
    AssistanceRequest(kiosk_id=KIOSK_ID, step="form")
    with pytest.raises(ValidationError):
        AssistanceRequest(kiosk_id=KIOSK_ID, step="form", full_name=CITIZEN_NAME)
    with pytest.raises(ValidationError):
        AssistanceRequest(kiosk_id=KIOSK_ID, step=CITIZEN_NAME)


def test_reach_table_is_shared() -> None:
    assert set(REACH) == set(State)
