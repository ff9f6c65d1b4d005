"""Logs never carry personal data, tracebacks included (issue 9 §4): the formatter masks ID- and phone-shaped
numbers everywhere and withholds exception messages, of chained causes too, which may quote a name."""
from __future__ import annotations

import io
import logging


from kiosk.appliance import logs

ID_NUMBER = "001099012345"
NAME = "Phạm Thị Ngọc Diễm"  # synthetic (the sandbox's VNEID-TEST-0002)
PHONE = "0912345678"
PHONE_INTL = "+84912345678"
OLD_ID = "123456789"


class PortalishError(Exception):
    code = "server_error"


def _fail() -> None:
    try:
        raise KeyError(f"citizen {NAME} id {ID_NUMBER} phone {PHONE_INTL}")
    except KeyError as e:
        raise PortalishError(f"could not send for {NAME} ({ID_NUMBER}, {PHONE}, CMND {OLD_ID})") from e


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logs.{id(out)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def _assert_clean(text: str) -> None:
    for secret in (ID_NUMBER, NAME, "Diễm", PHONE, PHONE_INTL, "912345678", OLD_ID):
        assert secret not in text, (secret, text)


def test_a_traceback_with_a_chained_cause_carries_no_personal_data():
    logger, out = _logger(logs.RedactingFormatter(logs.FORMAT))
    try:
        _fail()
    except PortalishError:
        logger.exception("submission failed")
    text = out.getvalue()
    _assert_clean(text)
    # still useful: where it happened and what, for both exceptions
    assert "Traceback (most recent call last)" in text and "in _fail" in text
    assert "KeyError: [message withheld" in text and "PortalishError (code server_error): [message withheld" in text
    assert "direct cause" in text


def test_stack_info_and_the_message_are_masked_too():
    logger, out = _logger(logs.RedactingFormatter(logs.FORMAT))
    logger.warning("phone %s id %s", PHONE, ID_NUMBER, stack_info=True)
    text = out.getvalue()
    _assert_clean(text)
    assert "Stack (most recent call last)" in text


def test_an_exception_text_cached_by_a_plain_handler_is_not_reused():
    plain, _ = _logger(logging.Formatter(logs.FORMAT))
    record = None
    try:
        _fail()
    except PortalishError:
        import sys

        record = plain.makeRecord(plain.name, logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    logging.Formatter(logs.FORMAT).format(record)  # another handler ran first and cached the raw traceback
    assert ID_NUMBER in record.exc_text
    text = logs.RedactingFormatter(logs.FORMAT).format(record)
    _assert_clean(text)
    assert ID_NUMBER in record.exc_text  # the other handler's cache is left as it was


def test_the_kiosk_handlers_use_the_redacting_formatter(tmp_path, monkeypatch):
    root = logging.getLogger()
    saved = root.handlers[:], getattr(root, "_kiosk_configured", False), root.level
    monkeypatch.delattr(root, "_kiosk_configured", raising=False)
    try:
        logs.setup_logging(log_dir=tmp_path)
        mine = [h for h in root.handlers if h not in saved[0]]
        assert mine and all(isinstance(h.formatter, logs.RedactingFormatter) for h in mine)
        try:
            _fail()
        except PortalishError:
            logging.getLogger("kiosk.test").exception("delivery failed")
        for h in mine:
            h.flush()
        _assert_clean((tmp_path / "kiosk.log").read_text(encoding="utf-8"))
        _assert_clean("\n".join(logs.RECENT))
    finally:
        for h in root.handlers[:]:
            if h not in saved[0]:
                root.removeHandler(h)
                h.close()
        root.setLevel(saved[2])
        if saved[1]:
            root._kiosk_configured = True
