"""Status look-up: scan the QR on a receipt (it carries the code and the secret), or type the dossier code and
the secret printed beside it, and see where the dossier is: status and appointment, never personal data.
When the result is a printable electronic copy, "In kết quả" prints it on the kiosk's printer."""
from __future__ import annotations

from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.portal.client import STATUS_LABELS
from kiosk.domain.receipt import format_datetime
from kiosk.domain.statuses import status_lines
from kiosk.portal.models import NATIONAL_STATUS_CODE
from screens.widgets import KioskScreen


class StatusLookupScreen(KioskScreen):
    code = StringProperty("")
    secret = StringProperty("")
    typing = BooleanProperty(False)
    typing_secret = BooleanProperty(False)
    result = StringProperty("")
    printable = BooleanProperty(False)
    printed = BooleanProperty(False)
    payment_qr = ObjectProperty(None, allownone=True)  # status 6: the VietQR for the amount due, as a texture

    def start_typing(self) -> None:
        self.typing, self.typing_secret = True, False
        self.ids.keyboard.attach(self.code, self._typed, mode="code")

    def start_typing_secret(self) -> None:
        self.typing, self.typing_secret = True, True
        self.ids.keyboard.attach(self.secret, self._typed_secret, mode="code")

    def _typed(self, text: str) -> None:
        self.code = text

    def _typed_secret(self, text: str) -> None:
        self.secret = text.upper()

    def lookup(self) -> None:
        self.typing = self.typing_secret = False
        self.ids.keyboard.detach()
        self.send("lookup", code=self.code, secret=self.secret)

    def print_result(self) -> None:
        self.send("print_result")

    def render(self, session) -> None:
        super().render(session)
        d = session.data
        if d.status_code and not self.code:  # scanned from an old receipt: the code is filled, the secret asked
            self.code = d.status_code
        v = d.status_view
        self.printed = bool(d.result_printed)
        payload = getattr(d, "status_payment_qr", "")
        if payload != getattr(self, "_qr_payload", ""):
            self._qr_payload = payload
            self.payment_qr = _qr_texture(payload) if payload else None
        if v is None:
            self.result, self.printable = "", False
            return
        self.printable = bool(v.result_printable)
        lines = [
            f"Mã hồ sơ: {v.dossier_code}",
            f"Tình trạng: {NATIONAL_STATUS_CODE.get(v.status, '')}. {STATUS_LABELS.get(v.status, v.status.value)}",
            f"Thủ tục: {v.procedure_name or v.procedure_code}",
            f"Ngày tiếp nhận: {format_datetime(v.received_at)}",  # the centre's time, not the portal's UTC
        ]
        if v.appointment_date:
            lines.append(f"Ngày hẹn trả kết quả: {v.appointment_date:%d/%m/%Y}")
        lines += status_lines(v.status_code or NATIONAL_STATUS_CODE.get(v.status), note=v.note,
                              fee_amount=v.fee_amount, payment_code=v.payment_code, result_at=v.result_at,
                              electronic=v.result_electronic, printable=v.result_printable,
                              by_post=v.result_by_post)
        self.result = "\n".join(lines)

    def on_leave(self, *_args) -> None:
        self.code, self.secret, self.typing, self.typing_secret, self.result = "", "", False, False, ""
        self.printable = self.printed = False
        self.payment_qr, self._qr_payload = None, ""


def _qr_texture(payload: str) -> Texture:
    """A QR code as a grey texture (crisp: one texel per module, scaled up without smoothing)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image().get_image().convert("L")
    tex = Texture.create(size=image.size, colorfmt="luminance")
    tex.blit_buffer(image.tobytes(), colorfmt="luminance", bufferfmt="ubyte")
    tex.flip_vertical()
    tex.mag_filter = "nearest"
    return tex
