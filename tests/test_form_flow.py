"""Issue 10, the session side: one question per screen, "Sửa" from the review, and cancel/decline that say what
happened afterwards."""
from __future__ import annotations

from kiosk import messages
from kiosk.session.machine import State
from portal_fixtures import sandbox_server  # noqa: F401  (fixture)
from session_fixtures import BIRTH, Kiosk, birth_form_values, kiosk, portal, shared_outbox  # noqa: F401


def test_a_new_session_opens_the_form_at_its_first_question(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.send("next_question")  # the child's name is empty: the citizen stays on it, with a message
    assert kiosk.data.form_index == 0 and "child_full_name" in kiosk.data.form_errors
    kiosk.send("set", field="child_full_name", value="Lê Minh Khôi")
    kiosk.send("next_question")
    assert kiosk.data.form_index == 1
    kiosk.send("cancel")
    assert kiosk.state is State.ATTRACT
    kiosk.to_form()
    assert kiosk.data.form_index == 0, "a new citizen's form must not open where the last one stopped"


def test_choice_questions_are_asked_like_any_other(kiosk: Kiosk) -> None:
    """'Tiếp tục' on the gender question without a choice stays there and says so (it used to be skipped)."""
    kiosk.to_form()
    ids = [f.id for f in kiosk.data.procedure.form]
    values = birth_form_values()
    for fid in ids[: ids.index("child_sex")]:
        kiosk.send("set", field=fid, value=values[fid])
        kiosk.send("next_question")
    assert ids[kiosk.data.form_index] == "child_sex"
    kiosk.send("next_question")
    assert ids[kiosk.data.form_index] == "child_sex" and "child_sex" in kiosk.data.form_errors


def test_each_question_then_the_last_goes_to_the_papers_and_back_returns_to_it(kiosk: Kiosk) -> None:
    kiosk.to_form()
    values = birth_form_values()
    form = kiosk.data.procedure.form
    for field in form:
        if field.id in values:
            kiosk.send("set", field=field.id, value=values[field.id])
        kiosk.send("next_question")
    assert kiosk.state is State.DOCUMENTS, kiosk.data.form_errors
    kiosk.send("back")
    from kiosk.domain.forms import applies  # the last question asked (the post address only when by post)

    last = max(i for i, f in enumerate(form) if applies(f, kiosk.data.form_values))
    assert kiosk.state is State.FORM and kiosk.data.form_index == last
    kiosk.send("back")
    assert kiosk.data.form_index == last - 1


def test_sua_beside_an_answer_opens_that_question_and_returns_to_the_review(kiosk: Kiosk) -> None:
    kiosk.to_review()
    kiosk.send("edit_field", field="birth_place")
    assert kiosk.state is State.FORM
    assert kiosk.data.procedure.form[kiosk.data.form_index].id == "birth_place"
    kiosk.send("set", field="birth_place", value="Bệnh viện huyện Krông Pắc")
    kiosk.send("next_question")
    assert kiosk.state is State.REVIEW
    assert kiosk.data.clean_form["birth_place"] == "Bệnh viện huyện Krông Pắc"


def test_a_wrong_answer_elsewhere_is_shown_at_its_question(kiosk: Kiosk) -> None:
    kiosk.to_form()
    for fid, value in birth_form_values().items():
        kiosk.send("set", field=fid, value=value)
    kiosk.send("set", field="child_birth_date", value="31/02/2020")
    kiosk.send("next")  # the whole form at once
    assert kiosk.state is State.FORM
    assert kiosk.data.procedure.form[kiosk.data.form_index].id == "child_birth_date"


def test_cancel_says_afterwards_what_happened(kiosk: Kiosk) -> None:
    kiosk.to_form()
    kiosk.send("cancel")
    assert kiosk.state is State.ATTRACT and kiosk.data.citizen is None
    assert kiosk.data.notice == messages.CANCELLED_NOTICE
    kiosk.send("start")
    assert kiosk.data.notice == ""


def test_declining_consent_says_what_happened_and_what_to_do(kiosk: Kiosk) -> None:
    kiosk.to_procedure_info(BIRTH)
    kiosk.send("next")
    assert kiosk.state is State.CONSENT
    kiosk.send("decline")
    assert kiosk.state is State.ATTRACT
    assert kiosk.data.notice == messages.DECLINED_NOTICE
