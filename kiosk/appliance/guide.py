"""Spoken guidance for citizens who cannot see or read the screen (issue 12).

For every state the `Guide` says the screen's title, what to do, the choices with the keypad key for each and
the current error (title and next step), in Vietnamese, through `kiosk.domain.speech_text.spoken()`.
Personal data (the citizen's name, ID number, address, form answers, the dossier) is said with `private=True`:
the speech driver speaks it only with headphones and says the privacy notice otherwise. The one-time code is
never read back (the keypad controller gives a tone per digit). The receipt and the queue ticket are read aloud:
the dossier code spelled, the appointment date, the queue number and counter.

The guide listens to the session: on each change of what the screen shows it speaks (interrupting what was
being said) while `data.speech_mode` is on; when a session ends (back to attract) it resets the speech
(volume, the last utterance) so the next citizen starts fresh.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from kiosk.domain.speech_text import spell, spoken
from kiosk.session.machine import State

log = logging.getLogger(__name__)

# what each key is called when spoken (the keypad's labels)
KEY_SELECT = "phím Xanh"
KEY_BACK = "phím Quay lại"
KEY_CANCEL = "phím Đỏ"
KEY_CLEAR = "phím Vàng"
KEY_REPEAT = "phím Nghe lại"
KEY_HELP = "phím Trợ giúp"
KEY_MORE_TIME = "phím Thêm thời gian"

#: How many procedures the guide reads out (digits 1-9 pick one).
MAX_CHOICES = 9

HELP_TEXT = (f"Hướng dẫn bàn phím. {KEY_SELECT} ở góc dưới bên phải để chọn hoặc tiếp tục. {KEY_BACK} để quay lại "
             f"bước trước. {KEY_CANCEL} để hủy và kết thúc. {KEY_REPEAT} để nghe lại. Các phím cộng và trừ để "
             f"chỉnh âm lượng. {KEY_MORE_TIME} khi máy hỏi bạn có cần thêm thời gian. Các phím số để chọn "
             "hoặc để nhập chữ và số. Nếu cần giúp, hỏi cán bộ tại quầy.")
#: The header's toggles, spoken when they change (EN 301 549 5.1.3 / 5.6.1: the state of a toggle, not by sight).
MODE_NAMES = ("Chữ to", "Tương phản")
MODE_STATE = "{}: {}."
WARNING_TEXT = f"Bạn có cần thêm thời gian không? Bấm {KEY_MORE_TIME} hoặc bất kỳ phím nào để tiếp tục."
TEXT_ENTRY_HELP = ("Nhập chữ bằng các phím số như trên điện thoại: phím 2 là a, b, c; phím 3 là d, e, f; bấm nhiều lần "
                   "để đổi chữ. Phím 1 để giữ chữ vừa chọn, phím 0 là dấu cách, phím sao để đổi dấu thanh, "
                   f"{KEY_CLEAR} để xóa. Bấm phím thăng khi xong.")


@dataclasses.dataclass(frozen=True)
class Line:
    text: str
    private: bool = False


def _pub(text: str) -> Line:
    return Line(text)


def _priv(text: str) -> Line:
    return Line(text, private=True)


def _date(d) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


class Guide:
    """The spoken guidance for one session. `speech` is a drivers.speech.SpeechOutput."""

    def __init__(self, session: Any, speech: Any) -> None:
        self.session, self.speech = session, speech
        self.procedure_choices: list[str] = []  # the codes read out in PROCEDURE, in order (digit N = item N)
        self.announcements: list[tuple[State, list[Line]]] = []  # what was announced, in order (tests)
        self._last_key: tuple | None = None
        self._last_state: State = session.state
        self._warned = False
        self._last_modes: tuple[bool, bool] | None = None
        session.subscribe(self._on_change)

    # ------------------------------------------------------------------ public
    def repeat(self) -> None:
        """Say the current screen again (from its title)."""
        self._speak(self.script(), State(self.session.state))

    def help(self) -> None:
        self._say_lines([_pub(HELP_TEXT)])

    def warn(self) -> None:
        self.speech.tone("warning", interrupt=True)
        self._say_lines([_pub(WARNING_TEXT)], interrupt=False)

    def echo(self, text: str) -> None:
        """A letter just typed into a form answer: personal, so a tone without headphones."""
        if self.session.data.speech_mode and text and self.speech.headphones_connected():
            self.speech.say(spoken(text, self.lang), lang=self.lang, private=True)
        else:
            self.speech.tone("digit")

    def control(self, words: str) -> None:
        """The control the keypad's focus moved to: its words (shown, so public), or a tone when it has none.
        A key of the on-screen keyboard is a letter of an answer: spoken as `echo` is."""
        if not words:
            self.speech.tone("digit", interrupt=True)
        elif len(words) == 1:
            self.echo(words)
        elif self.session.data.speech_mode:
            text, lang = self.in_language(words)
            self.speech.say(spoken(text, lang), lang=lang, interrupt=True)

    @property
    def lang(self) -> str:
        return self.session.data.lang

    # ------------------------------------------------------------------ listening
    def _key(self) -> tuple:
        s, d = self.session, self.session.data
        err = d.error.title if d.error else ""
        field_err = ""
        if s.state is State.FORM and d.procedure is not None and 0 <= d.form_index < len(d.procedure.form):
            field_err = d.form_errors.get(d.procedure.form[d.form_index].id, "")
        comp = (d.current_component, len(s.component.pages) if s.component else 0,
                bool(s.component and s.component.blank))
        return (s.state, s.epoch, d.form_index, field_err, err, comp, bool(d.busy), d.otp is not None,
                d.receipt_printed, d.ticket is not None, d.print_error is not None, d.speech_mode,
                d.status_view is not None)

    def _on_change(self, session: Any) -> None:
        try:
            state = session.state
            if state is State.ATTRACT and self._last_state is not State.ATTRACT:
                self.speech.reset()  # the session was wiped: the next citizen starts at the default volume
                self._last_key = None
            self._last_state = state
            if not session.data.speech_mode:
                self._last_key, self._last_modes = None, None
                return
            warning = session.warning_remaining is not None
            if warning and not self._warned:
                self._warned = True
                self.warn()
                return
            self._warned = warning
            modes = (bool(session.data.large_text), bool(session.data.high_contrast))
            if self._last_modes is not None and modes != self._last_modes:  # a header toggle: say its new state
                self._say_lines([_pub(MODE_STATE.format(name, "bật" if on else "tắt"))
                                 for name, on, was in zip(MODE_NAMES, modes, self._last_modes, strict=True)
                                 if on != was])
            self._last_modes = modes
            key = self._key()
            if key != self._last_key:
                self._last_key = key
                self._speak(self.script(), state)
        except Exception:  # noqa: BLE001 - guidance failing must never stop the session
            log.exception("spoken guidance failed")

    def _speak(self, lines: list[Line], state: State) -> None:
        self.announcements.append((state, lines))
        self._say_lines(lines)

    def _say_lines(self, lines: list[Line], interrupt: bool = True) -> None:
        for i, line in enumerate(lines):
            if line.text:
                text, lang = self.in_language(line.text)
                self.speech.say(spoken(text, lang), lang=lang, private=line.private, interrupt=interrupt and i == 0)

    def in_language(self, text: str) -> tuple[str, str]:
        """(words, voice) for a line in the displayed language: English through the catalogue
        (kiosk.messages.i18n) with the `en` voice; a line the catalogue cannot translate (a procedure's own
        name, a citizen's answer) keeps the Vietnamese voice, so it is never read with English sounds."""
        if self.lang == "vi":
            return text, "vi"
        from kiosk.messages.i18n import is_vietnamese, tr

        out = tr(text, self.lang)
        return (out, self.lang) if not is_vietnamese(out) else (text, "vi")

    def shown(self, text: str) -> str:
        """A catalogue text as the screen shows it (its English in English mode, kiosk.messages.i18n)."""
        from kiosk.messages.i18n import tr

        return tr(text, self.lang)

    # ------------------------------------------------------------------ the scripts
    def script(self) -> list[Line]:
        """What the current screen says, first line its title."""
        s, d = self.session, self.session.data
        lines = getattr(self, f"_{s.state.value}")(s, d)
        if d.busy and s.state not in (State.SUBMITTING,):
            lines.append(_pub(f"{d.busy.rstrip('…')}. Vui lòng chờ."))
        for msg in (d.error, d.print_error):
            if msg is not None:
                lines.append(_pub(f"{msg.title}. {msg.next_step}"))
        return lines

    def _attract(self, s, d) -> list[Line]:
        centre = s.services.config.kiosk.centre_name
        lines = [_pub(f"Xin chào. Đây là máy nộp hồ sơ tự phục vụ của {centre}."),
                 _pub(f"Bấm {KEY_SELECT} hoặc phím số 1 để bắt đầu nộp hồ sơ. Phím số 2 để tra cứu hồ sơ đã nộp. "
                      f"Phím số 3 để lấy số thứ tự. {KEY_HELP} để nghe hướng dẫn về bàn phím.")]
        if d.notice:
            lines.insert(1, _pub(d.notice))
        return lines

    def _procedure(self, s, d) -> list[Line]:
        catalog = s.services.catalog
        if d.search_query:
            procs = [h.procedure for h in catalog.search(d.search_query, MAX_CHOICES, lang=d.lang)]
        elif d.field_filter:
            procs = catalog.in_field(d.field_filter)[:MAX_CHOICES]
        else:
            procs = catalog.popular(MAX_CHOICES)
        self.procedure_choices = [p.code for p in procs]
        lines = [_pub("Chọn thủ tục bạn cần làm.")]
        # the explanation is several sentences: put in the citizen's language whole, before the line is composed
        lines += [_pub(f"Phím số {i}: {self.shown(p.plain or p.name).rstrip('.')}.") for i, p in enumerate(procs, 1)]
        lines.append(_pub(f"{KEY_REPEAT} để nghe lại danh sách. {KEY_BACK} để quay lại."))
        return lines

    def _procedure_info(self, s, d) -> list[Line]:
        p = d.procedure
        lines = [_pub(f"Thông tin thủ tục: {p.name}."), _pub(p.plain)]
        if d.fee_text:
            lines.append(_pub(f"Lệ phí: {d.fee_text}."))
        if d.appointment_date:
            lines.append(_pub(f"Ngày hẹn trả kết quả dự kiến: ngày {_date(d.appointment_date)}."))
        docs = [c.name for c in p.documents]
        if docs:
            lines.append(_pub("Giấy tờ cần có: " + "; ".join(docs) + "."))
        lines.append(_pub(f"Bấm {KEY_SELECT} để tiếp tục. {KEY_BACK} để chọn thủ tục khác."))
        return lines

    def _consent(self, s, d) -> list[Line]:
        return [_pub("Đồng ý sử dụng thông tin cá nhân."),
                _pub("Để lập hồ sơ, máy sẽ dùng thông tin định danh của bạn từ tài khoản VNeID và gửi hồ sơ tới cơ "
                     "quan giải quyết. Thông tin trên máy được xóa khi bạn kết thúc."),
                _pub(f"Bấm {KEY_SELECT} hoặc phím số 1 để đồng ý. Phím số 2 hoặc {KEY_CANCEL} nếu không đồng ý.")]

    def _login(self, s, d) -> list[Line]:
        return [_pub("Đăng nhập bằng VNeID."),
                _pub("Mở ứng dụng VNeID trên điện thoại, chọn mã QR đăng nhập, rồi đưa màn hình điện thoại trước "
                     "camera ở phía dưới màn hình của máy. Nếu cần giúp, hỏi cán bộ tại quầy."),
                _pub(f"{KEY_BACK} để quay lại.")]

    def _form(self, s, d) -> list[Line]:
        form = d.procedure.form
        i = min(max(d.form_index, 0), len(form) - 1)
        field = form[i]
        lines = [_pub(f"Câu hỏi {i + 1} trên {len(form)}: {field.label}.")]
        if field.help:
            lines.append(_pub(field.help))
        if not field.required:
            lines.append(_pub("Câu này không bắt buộc: bấm phím thăng để bỏ qua."))
        value = d.form_values.get(field.id, "")
        if value:
            lines.append(_priv(f"Câu trả lời hiện có: {value}."))
            lines.append(_pub("Bấm phím thăng để giữ câu trả lời này, hoặc nhập câu trả lời mới."))
        if field.type == "choice":
            lines += [_pub(f"Phím số {n}: {c}.") for n, c in enumerate(field.choices, 1)]
        elif field.type == "yesno":
            lines.append(_pub("Phím số 1: Có. Phím số 2: Không."))
        elif field.type == "date":
            lines.append(_pub("Nhập ngày, tháng, năm bằng tám chữ số, ví dụ ngày năm tháng ba năm hai nghìn không "
                              "trăm hai mươi sáu là: không năm, không ba, hai không hai sáu. Bấm phím thăng khi xong."))
        elif field.type in ("number", "phone"):
            lines.append(_pub(f"Nhập các chữ số bằng bàn phím số. {KEY_CLEAR} để xóa. Bấm phím thăng khi xong."))
        else:
            lines.append(_pub(TEXT_ENTRY_HELP))
        error = d.form_errors.get(field.id)
        if error:
            lines.append(_pub(f"Chưa đúng: {error}"))
        return lines

    def _documents(self, s, d) -> list[Line]:
        comp = s.component
        if comp is None:
            return [_pub("Quét giấy tờ."), _pub(f"Thủ tục này không cần quét giấy tờ. Bấm {KEY_SELECT} để tiếp tục.")]
        n, total = d.current_component + 1, len(d.components)
        lines = [_pub(f"Quét giấy tờ {n} trên {total}: {comp.name}.")]
        if d.scanning:
            return lines
        if comp.pages:
            lines.append(_pub(f"Đã quét {len(comp.pages)} trang."))
        if comp.blank:
            lines.append(_pub(f"Có trang trắng. Bấm {KEY_SELECT} để giữ trang đó, {KEY_CLEAR} để xóa trang đó."))
        elif comp.complete:
            lines.append(_pub(f"Bấm {KEY_SELECT} để tiếp tục. Phím số 1 để quét thêm trang."))
        else:
            lines.append(_pub(f"Đặt giấy tờ vào khay quét ở bên phải, mặt chữ úp xuống, rồi bấm {KEY_SELECT} để quét."))
        return lines

    def _review(self, s, d) -> list[Line]:
        lines = [_pub("Kiểm tra hồ sơ trước khi gửi.")]
        answers = [f"{f.label}: {d.form_values.get(f.id, '')}" for f in d.procedure.form if d.form_values.get(f.id)]
        if answers:
            lines.append(_priv("Thông tin bạn đã khai. " + ". ".join(answers) + "."))
        pages = sum(c.page_count for c in d.components)
        lines.append(_pub(f"Giấy tờ đã quét: {pages} trang."))
        if d.fee_text:
            lines.append(_pub(f"Lệ phí: {d.fee_text}."))
        if d.postage_text:  # the result by post: what the post office asks for, as the screen shows it
            lines.append(_pub(f"Phí gửi kết quả qua bưu điện: {d.postage_text}."))
        lines.append(_pub(f"Bấm {KEY_SELECT} để xác nhận. Máy sẽ gửi mã xác nhận tới điện thoại của bạn. "
                          f"{KEY_BACK} để sửa."))
        return lines

    def _otp(self, s, d) -> list[Line]:
        lines = [_pub("Nhập mã xác nhận.")]
        if d.otp is not None:
            if d.otp.sent_to:
                lines.append(_priv(f"Mã đã được gửi tới số điện thoại {d.otp.sent_to}."))
            lines.append(_pub(f"Mã xác nhận gồm {d.otp.length} chữ số, đã được gửi bằng tin nhắn. Nhập các chữ số bằng "
                              "bàn phím số. Mỗi phím kêu một tiếng bíp; máy không đọc to các chữ số. Khi đủ số, "
                              f"máy tự kiểm tra. {KEY_CLEAR} để nhập lại."))
        return lines

    def _submitting(self, s, d) -> list[Line]:
        return [_pub("Đang gửi hồ sơ. Vui lòng chờ, không rời máy.")]

    def _done(self, s, d) -> list[Line]:
        lines = [_pub("Hồ sơ đã được tiếp nhận.")]
        if d.dossier_code:
            lines.append(_pub(f"Mã hồ sơ: {spell(d.dossier_code, self.lang)}."))
        elif d.local_reference:
            lines.append(_pub(f"Mã tham chiếu: {spell(d.local_reference, self.lang)}."))
        if d.lookup_secret:  # with the code it opens the dossier's status: for the citizen's ears only
            lines.append(_priv(f"Mã tra cứu: {spell(d.lookup_secret, self.lang)}."))
        if d.appointment_date:
            lines.append(_pub(f"Ngày hẹn trả kết quả: ngày {_date(d.appointment_date)}."))
        if d.postage_text:
            lines.append(_pub(f"Kết quả sẽ được gửi qua bưu điện. Phí gửi: {d.postage_text}."))
        if d.receipt_printed:
            lines.append(_pub("Biên nhận đã in ở khe phía dưới màn hình. Xin hãy lấy biên nhận."))
        if d.ticket is not None:
            lines.append(_pub(self._ticket_text(d.ticket)))
        lines.append(_pub(f"Bấm {KEY_SELECT} để kết thúc."))
        return lines

    def _rating(self, s, d) -> list[Line]:
        return [_pub("Đánh giá sự hài lòng."),
                _pub(f"Bấm phím số 1 đến phím số 5 để đánh giá; 5 là rất hài lòng, 1 là không hài lòng. "
                     f"Bấm {KEY_SELECT} để bỏ qua.")]

    def _status_lookup(self, s, d) -> list[Line]:
        lines = [_pub("Tra cứu hồ sơ."),
                 _pub("Đưa mã QR in trên biên nhận trước camera ở phía dưới màn hình. " f"{KEY_BACK} để quay lại.")]
        view = d.status_view
        if view is not None:
            status = getattr(view, "status_text", "") or getattr(view, "status", "")
            code = getattr(view, "dossier_code", "")
            lines.append(_pub(f"Hồ sơ {spell(code, self.lang) if code else ''}: {status}."))
        return lines

    def _queue_ticket(self, s, d) -> list[Line]:
        lines = [_pub("Lấy số thứ tự.")]
        if d.ticket is not None:
            lines.append(_pub(self._ticket_text(d.ticket)))
            lines.append(_pub(f"Bấm {KEY_SELECT} khi xong."))
        return lines

    def _out_of_service(self, s, d) -> list[Line]:
        return [_pub("Máy tạm ngừng phục vụ."), _pub("Mời bạn đến quầy tiếp nhận để được cán bộ hỗ trợ.")]

    @staticmethod
    def _ticket_text(ticket) -> str:
        text = f"Số thứ tự của bạn là {ticket.number}."
        if ticket.counter:
            text += (f" Mời đến {ticket.counter}." if not ticket.counter.isdigit()
                     else f" Mời đến quầy số {ticket.counter}.")
        return text
