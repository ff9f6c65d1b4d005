"""Every event the session understands: what screens send (`Event`) and what finished jobs send back
(`Result`, names starting with "_"). One list, so a typo in a `.kv` file is a test failure, not a silent no-op.
"""
from __future__ import annotations

import enum

from kiosk.errors import UnknownEvent


class Event(str, enum.Enum):
    """Sent by screens, the app and devices: `session.send(Event.NEXT)` or `session.send("next")`."""

    # any state
    CANCEL = "cancel"                # the citizen asked to stop (after confirming on screen)
    BACK = "back"
    TOUCH = "touch"
    DISMISS_ERROR = "dismiss_error"
    TIMEOUT = "timeout"              # inactivity ran out (sent by `Session.tick`)
    OUT_OF_SERVICE = "out_of_service"
    BACK_IN_SERVICE = "back_in_service"
    # attract and side paths
    START = "start"
    STATUS_LOOKUP = "status_lookup"
    QUEUE_TICKET = "queue_ticket"
    LOOKUP = "lookup"
    # procedure
    SEARCH = "search"
    FIELD = "field"
    CHOOSE = "choose"
    # flow
    NEXT = "next"
    AGREE = "agree"
    DECLINE = "decline"
    CODE = "code"                    # a code read or typed at login
    LOGIN_DOOR = "login_door"        # door=app_code|qr_shown|chip|assisted ("" = back to the choice)
    STAFF_PIN = "staff_pin"          # staff_id=, pin= (a clerk signs in for an assisted session)
    MRZ = "mrz"                      # text= the ID card's MRZ, typed (BAC keys when there is no QR)
    USE_ID_QR = "use_id_qr"          # the chip cannot be read: the clerk goes on with the card's QR alone
    RETRY = "retry"
    SET = "set"                      # a form answer
    SCAN = "scan"
    RESCAN = "rescan"
    SELECT = "select"
    DELETE_PAGE = "delete_page"
    KEEP_PAGE = "keep_page"
    EDIT_FORM = "edit_form"
    NEXT_QUESTION = "next_question"  # form: check this question, then the next one (the last checks all)
    EDIT_FIELD = "edit_field"        # review: "Sửa" beside one answer (field=...), back to review after it
    EDIT_DOCUMENTS = "edit_documents"
    RESEND = "resend"
    SUBMIT_CODE = "submit_code"
    FINISH = "finish"
    RATE = "rate"
    SKIP = "skip"
    # accessibility (any state; all reset by the wipe)
    SPEECH_TOGGLE = "speech_toggle"  # on=True/False (none: toggle), keypad=True: a keypad press turned it on
    MORE_TIME = "more_time"          # "Tôi cần thêm thời gian": clears the warning, restarts the countdown
    LARGE_TEXT_TOGGLE = "large_text_toggle"
    CONTRAST_TOGGLE = "contrast_toggle"
    SET_LANG = "set_lang"            # lang="vi"|"en"
    CALL_STAFF = "call_staff"        # "Gọi cán bộ" in the help panel: the portal is told the kiosk and the step


class Result(str, enum.Enum):
    """Sent back by the session's own jobs, with the epoch they started in (stale ones are dropped)."""

    CODE_READ = "_code_read"
    READER_FAILED = "_reader_failed"
    LOGIN_OK = "_login_ok"
    LOGIN_FAILED = "_login_failed"
    QR_READY = "_qr_ready"           # the VNeID QR the kiosk shows (device grant)
    QR_FAILED = "_qr_failed"
    QR_POLLED = "_qr_polled"
    QR_POLL_FAILED = "_qr_poll_failed"
    CHIP_READ = "_chip_read"
    CHIP_FAILED = "_chip_failed"
    STAFF_OK = "_staff_ok"
    DOOR_FAILED = "_door_failed"
    PAGE = "_page"
    SCAN_DONE = "_scan_done"
    SCAN_FAILED = "_scan_failed"
    OTP_SENT = "_otp_sent"
    OTP_FAILED = "_otp_failed"
    OTP_OK = "_otp_ok"
    OTP_WRONG = "_otp_wrong"
    SUBMITTED = "_submitted"
    SUBMIT_FAILED = "_submit_failed"
    PRINTED = "_printed"
    PRINT_FAILED = "_print_failed"
    RATED = "_rated"
    STATUS = "_status"
    STATUS_FAILED = "_status_failed"
    TICKET = "_ticket"
    TICKET_FAILED = "_ticket_failed"
    STAFF_CALLED = "_staff_called"   # ok=True/False, token= the request's (a wiped session ignores it)
    RETRYING = "_retrying"           # a portal call is being retried ("Đang kết nối lại…")


ALL_NAMES: frozenset[str] = frozenset(e.value for e in Event) | frozenset(r.value for r in Result)


def event_name(event: Event | Result | str) -> str:
    """The event's name, or `UnknownEvent` for one no state knows."""
    name = event.value if isinstance(event, enum.Enum) else event
    if not isinstance(name, str) or name not in ALL_NAMES:
        raise UnknownEvent(f"no such event: {str(name)[:40]!r}")
    return name
