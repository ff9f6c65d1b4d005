"""What a citizen reads when something goes wrong: what happened, what to do now, whom to ask.

Every failure the kiosk can meet (device errors, portal errors, rejected codes) maps here to a `UserMessage`.
No exception text ever reaches the screen; the technical detail goes to the log and `kiosk doctor`.
"""
from __future__ import annotations

import dataclasses

from drivers.base import DeviceError

from kiosk.errors import InputRejected
from kiosk.outbox.store import OutboxError
from kiosk.portal.client import PortalError

ASK_STAFF = "Nếu cần giúp, vui lòng hỏi cán bộ tại quầy tiếp nhận."
#: Shown (as the session's busy text) while the portal client retries a call after a transient fault.
RECONNECTING = "Đang kết nối lại…"


@dataclasses.dataclass(frozen=True)
class UserMessage:
    title: str
    text: str
    next_step: str = ASK_STAFF
    kind: str = "error"  # machine name, for logs and tests

    def with_next_step(self, next_step: str) -> UserMessage:
        return dataclasses.replace(self, next_step=next_step)


_DEVICE: dict[str, tuple[str, str, str]] = {
    # kind: (title, what happened, what to do now)
    "paper_jam": ("Giấy bị kẹt trong máy quét",
                  "Máy quét bị kẹt giấy. Các trang đã quét trước đó vẫn được giữ lại.",
                  "Mở nắp máy quét, lấy tờ giấy bị kẹt ra, đặt lại các trang chưa quét rồi bấm “Quét tiếp”."),
    "no_documents": ("Chưa có giấy trong khay",
                     "Máy quét không thấy giấy tờ nào trong khay nạp giấy.",
                     "Đặt giấy tờ vào khay, mặt có chữ úp xuống, rồi bấm “Quét”."),
    "cover_open": ("Nắp máy quét đang mở", "Nắp máy quét đang mở nên máy không quét được.",
                   "Đóng nắp máy quét lại rồi bấm “Quét”."),
    "device_busy": ("Máy quét đang bận", "Máy quét đang xử lý một việc khác.",
                    "Vui lòng chờ vài giây rồi bấm “Quét” lại."),
    "io_error": ("Máy quét gặp lỗi", "Máy quét không gửi được trang giấy vừa quét.",
                 "Bấm “Quét” để thử lại. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy."),
    "device_gone": ("Thiết bị không phản hồi", "Máy không kết nối được với thiết bị.",
                    "Vui lòng báo cán bộ tại quầy để được hỗ trợ."),
    "device_timeout": ("Thiết bị phản hồi quá lâu", "Thiết bị không trả lời trong thời gian cho phép.",
                       "Bấm “Thử lại”. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy."),
    "paper_out": ("Máy in hết giấy", "Máy in đã hết giấy nên chưa in được phiếu.",
                  "Vui lòng báo cán bộ tại quầy để được in lại."),
    "printer_offline": ("Máy in chưa sẵn sàng", "Máy in đang tắt hoặc chưa sẵn sàng.",
                        "Vui lòng báo cán bộ tại quầy để được in lại."),
    "device_error": ("Thiết bị gặp lỗi", "Thiết bị gặp lỗi không xác định.",
                     "Vui lòng báo cán bộ tại quầy để được hỗ trợ."),
}

#: Where the same error kind means something else on another device: (device kind, error kind) -> message.
_ON_DEVICE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("printer", "cover_open"): ("Nắp máy in đang mở", "Nắp máy in đang mở nên chưa in được phiếu.",
                                "Vui lòng báo cán bộ tại quầy để được in lại."),
    ("printer", "paper_jam"): ("Máy in bị kẹt giấy", "Máy in bị kẹt giấy; phiếu có thể bị in thiếu.",
                               "Vui lòng báo cán bộ tại quầy để được in lại."),
    ("printer", "device_gone"): ("Máy in không phản hồi", "Máy không kết nối được với máy in.",
                                 "Vui lòng báo cán bộ tại quầy để được in lại."),
    ("printer", "device_timeout"): ("Máy in không phản hồi", "Máy in không trả lời trong thời gian cho phép.",
                                    "Vui lòng báo cán bộ tại quầy để được in lại."),
    ("printer", "io_error"): ("Máy in gặp lỗi", "Máy in gặp lỗi khi in phiếu.",
                              "Vui lòng báo cán bộ tại quầy để được in lại."),
    ("code_reader", "device_gone"): ("Máy đọc mã đang gặp sự cố", "Máy không kết nối được với máy đọc mã QR.",
                                     "Bấm “Thử lại”. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy."),
    ("code_reader", "device_timeout"): ("Máy đọc mã không phản hồi", "Máy đọc mã QR không trả lời.",
                                        "Bấm “Thử lại” sau ít phút, hoặc báo cán bộ tại quầy."),
}

_PORTAL: dict[str, tuple[str, str, str]] = {
    "login_code_unknown": ("Không đăng nhập được", "Mã QR này không phải mã đăng nhập VNeID hợp lệ.",
                           "Mở ứng dụng VNeID, chọn mã QR đăng nhập rồi đưa lại trước camera."),
    "login_code_expired": ("Mã đăng nhập đã hết hạn", "Mã QR đăng nhập VNeID đã hết hạn.",
                           "Làm mới mã QR trong ứng dụng VNeID rồi đưa lại trước camera."),
    "level_insufficient": ("Tài khoản chưa đủ mức 2",
                           "Nộp hồ sơ trực tuyến cần tài khoản VNeID mức 2; tài khoản của của Ông/Bà đang ở mức 1.",
                           "Vui lòng đến quầy tiếp nhận để nộp trực tiếp hoặc nâng cấp tài khoản lên mức 2."),
    "otp_wrong": ("Mã xác nhận chưa đúng", "Mã xác nhận Ông/Bà nhập chưa đúng.",
                  "Kiểm tra tin nhắn và nhập lại mã gồm 6 chữ số."),
    "otp_locked": ("Nhập sai quá số lần cho phép", "Ông/Bà đã nhập sai mã xác nhận quá số lần cho phép.",
                   "Bấm “Gửi mã mới” để nhận mã xác nhận khác."),
    "otp_expired": ("Mã xác nhận đã hết hạn", "Mã xác nhận đã hết thời gian sử dụng.",
                    "Bấm “Gửi mã mới” để nhận mã xác nhận khác."),
    "unreachable": ("Chưa kết nối được Cổng dịch vụ công",
                    "Máy đã thử kết nối nhiều lần nhưng mạng hoặc Cổng đang gián đoạn. "
                    "Thông tin Ông/Bà đã nhập vẫn được giữ.",
                    "Vui lòng chờ một lát rồi bấm “Thử lại”, hoặc hỏi cán bộ tại quầy."),
    "timeout": ("Cổng dịch vụ công phản hồi chậm",
                "Máy đã chờ và thử lại nhưng chưa nhận được trả lời. Thông tin Ông/Bà đã nhập vẫn được giữ.",
                "Vui lòng bấm “Thử lại” sau ít phút."),
    "server_error": ("Cổng dịch vụ công đang gặp sự cố",
                     "Máy đã thử lại nhiều lần nhưng Cổng chưa xử lý được yêu cầu. "
                     "Thông tin Ông/Bà đã nhập vẫn được giữ.",
                     "Vui lòng bấm “Thử lại” sau ít phút."),
    "rate_limited": ("Cổng dịch vụ công đang quá tải",
                     "Có nhiều người đang dùng cùng lúc nên Cổng tạm thời chưa nhận thêm yêu cầu. "
                     "Thông tin Ông/Bà đã nhập vẫn được giữ.",
                     "Vui lòng chờ ít phút rồi bấm “Thử lại”."),
    "bad_response": ("Cổng dịch vụ công trả lời không hợp lệ",
                     "Máy nhận được câu trả lời không đọc được. Thông tin Ông/Bà đã nhập vẫn được giữ.",
                     "Vui lòng bấm “Thử lại”. Nếu vẫn lỗi, hãy báo cán bộ tại quầy."),
    "otp_invalid": ("Mã xác nhận chưa đúng dạng", "Mã xác nhận chỉ gồm các chữ số từ 0 đến 9.",
                    "Nhập lại mã gồm 6 chữ số trong tin nhắn bằng bàn phím trên màn hình."),
    "dossier_unknown": ("Không tìm thấy hồ sơ", "Mã này không khớp với hồ sơ nào trên Cổng dịch vụ công.",
                        "Kiểm tra lại mã trên biên nhận hoặc hỏi cán bộ tại quầy."),
    "auth_required": ("Phiên đăng nhập đã kết thúc", "Phiên đăng nhập VNeID của Ông/Bà đã kết thúc.",
                      "Vui lòng bấm “Hủy” rồi đăng nhập lại bằng mã VNeID."),
    "session_unknown": ("Phiên đăng nhập đã kết thúc", "Phiên đăng nhập VNeID của Ông/Bà đã kết thúc.",
                        "Vui lòng bấm “Hủy” rồi đăng nhập lại bằng mã VNeID."),
    "session_expired": ("Phiên đăng nhập đã hết hạn", "Phiên đăng nhập VNeID của Ông/Bà đã hết hạn.",
                        "Vui lòng bấm “Hủy” rồi đăng nhập lại bằng mã VNeID."),
    "otp_used": ("Mã xác nhận đã được dùng", "Mã xác nhận này đã được dùng.",
                 "Bấm “Gửi mã mới” để nhận mã xác nhận khác."),
    "otp_unknown": ("Mã xác nhận không còn hiệu lực", "Mã này đã quá hạn hoặc đã được thay bằng mã mới.",
                    "Bấm “Gửi mã mới” để nhận mã xác nhận khác."),
    "blob_too_large": ("Giấy tờ quá lớn", "Giấy tờ đã quét quá lớn để gửi.",
                       "Vui lòng báo cán bộ tại quầy để được hỗ trợ."),
    "idempotency_conflict": ("Hồ sơ bị trùng", "Mã gửi của hồ sơ này đã được dùng cho một hồ sơ khác.",
                             "Vui lòng báo cán bộ tại quầy."),
    "not_confirmed": ("Chưa xác nhận hồ sơ", "Hồ sơ chưa được xác nhận bằng mã một lần.",
                      "Vui lòng nhập lại mã xác nhận."),
}


def for_device(error: DeviceError, *, device_kind: str = "") -> UserMessage:
    title, text, step = _ON_DEVICE.get((device_kind, error.kind)) or _DEVICE.get(error.kind, _DEVICE["device_error"])
    return UserMessage(title, text, step, kind=error.kind)


def for_portal_code(code: str, *, remaining_attempts: int | None = None) -> UserMessage:
    title, text, step = _PORTAL.get(code, _PORTAL["server_error"])
    if code == "otp_wrong" and remaining_attempts is not None:
        text += f" Ông/Bà còn {remaining_attempts} lần nhập."
    return UserMessage(title, text, step, kind=code)


def for_exception(exc: BaseException, *, device_kind: str = "") -> UserMessage:
    """The citizen's message for any failure; unknown exceptions get a generic message, never their text."""
    if isinstance(exc, DeviceError):
        return for_device(exc, device_kind=device_kind)
    if isinstance(exc, OutboxError):  # the kiosk could not save the dossier: a retry will not help
        return UserMessage("Máy chưa lưu được hồ sơ", "Máy gặp sự cố khi lưu hồ sơ của Ông/Bà. Hồ sơ CHƯA được gửi.",
                           "Vui lòng báo cán bộ tại quầy để được hỗ trợ nộp hồ sơ.", kind="outbox_error")
    if isinstance(exc, PortalError):
        return for_portal_code(exc.code, remaining_attempts=getattr(exc, "remaining_attempts", None))
    if isinstance(exc, InputRejected):
        return UserMessage("Máy không dùng được thông tin này", "Thông tin vừa nhận quá dài hoặc không đúng dạng.",
                           "Vui lòng thử lại, hoặc hỏi cán bộ tại quầy.", kind=exc.code)
    return UserMessage("Đã có lỗi xảy ra",
                       "Máy gặp lỗi khi xử lý yêu cầu của Ông/Bà. Thông tin Ông/Bà đã nhập vẫn được giữ.",
                       "Bấm “Thử lại”. Nếu vẫn lỗi, vui lòng báo cán bộ tại quầy.", kind="internal")


#: What a citizen reads when the kiosk itself failed mid-step (the session's failsafe): a short apology and
#: that nothing of theirs was kept; when a dossier was already confirmed, the receipt says the rest.
APOLOGY = UserMessage("Xin lỗi, máy vừa gặp sự cố",
                      "Máy đã xóa thông tin của phiên làm việc vừa rồi để bảo vệ dữ liệu của Ông/Bà.",
                      "Vui lòng bắt đầu lại. Nếu vẫn lỗi, hãy hỏi cán bộ tại quầy.", kind="failsafe")


#: Said on the idle screen after a citizen stopped (a short notice: what happened, that nothing was kept).
CANCELLED_NOTICE = "Đã hủy. Thông tin Ông/Bà đã nhập và giấy tờ đã quét đã được xóa."
DECLINED_NOTICE = ("Ông/Bà chưa đồng ý nên máy chưa đọc thông tin nào. "
                   "Ông/Bà có thể nộp hồ sơ trực tiếp tại quầy: bấm “Lấy số thứ tự”.")
TIMED_OUT_NOTICE = "Máy đã xóa thông tin của phiên trước vì lâu không có thao tác."

#: After the rating: the citizen is thanked on the idle screen.
RATED_NOTICE = "Cảm ơn Ông/Bà đã góp ý! Chúc Ông/Bà một ngày tốt lành."

#: "Trợ giúp": what to do on this screen, one or two sentences per state (keyed by the state's name).
HELP: dict[str, str] = {
    "attract": "Bấm “Bắt đầu nộp hồ sơ” hoặc chạm vào tên thủ tục Ông/Bà cần làm. "
               "Muốn xem hồ sơ đã nộp, bấm “Tra cứu hồ sơ”.",
    "procedure": "Chạm vào tên thủ tục Ông/Bà cần làm. Không thấy? Chạm vào ô tìm kiếm và gõ vài chữ, "
                 "ví dụ “khai sinh”.",
    "procedure_info": "Đây là các giấy tờ cần mang theo và thời gian trả kết quả. Có đủ giấy tờ thì bấm "
                      "nút lớn bên phải để tiếp tục.",
    "consent": "Máy cần Ông/Bà đồng ý để đọc thông tin định danh. Đồng ý thì bấm “Tôi đồng ý”; "
               "không đồng ý thì có thể nộp tại quầy.",
    "login": "Mở ứng dụng VNeID trên điện thoại, chọn quét mã QR và đưa vào trước camera, "
             "hoặc đặt căn cước công dân lên đầu đọc thẻ.",
    "form": "Trả lời từng câu hỏi trên màn hình, rồi bấm “Tiếp tục”. Gõ chữ bằng bàn phím trên màn hình; "
            "bấm nút dấu để thêm dấu.",
    "documents": "Đặt từng tờ giấy, mặt chữ úp xuống, vào khe máy quét, rồi bấm “Quét”. "
                 "Xem ảnh trên màn hình: rõ chữ thì bấm “Tiếp tục”.",
    "review": "Đọc lại các thông tin. Sai chỗ nào thì bấm “Sửa” bên cạnh; đúng hết thì bấm “Xác nhận và gửi”.",
    "otp": "Xem tin nhắn vừa gửi tới điện thoại của Ông/Bà, gõ 6 chữ số trong tin nhắn, rồi bấm “Xác nhận”.",
    "submitting": "Máy đang gửi hồ sơ. Vui lòng chờ, không cần bấm gì.",
    "done": "Nhận biên nhận và phiếu số thứ tự ở khe máy in, giữ biên nhận để tra cứu và nhận kết quả.",
    "rating": "Chạm vào khuôn mặt đúng với cảm nhận của Ông/Bà, hoặc bấm “Bỏ qua”.",
    "status_lookup": "Đưa mã QR trên biên nhận vào trước camera để xem hồ sơ đang ở bước nào.",
    "queue_ticket": "Chọn việc Ông/Bà cần làm tại quầy để lấy số thứ tự, rồi chờ được gọi số.",
    "out_of_service": "Máy đang tạm dừng. Vui lòng đến quầy tiếp nhận để được giúp.",
}
HELP_DEFAULT = "Làm theo hướng dẫn trên màn hình, mỗi bước một việc. Bấm nút lớn ở góc phải phía dưới để tiếp tục."
#: "Gọi cán bộ": while the request goes out, after it arrived, and when it could not be sent.
STAFF_CALLING = "Đang báo cán bộ…"
STAFF_CALLED = "Cán bộ đã được báo, vui lòng chờ tại máy."
STAFF_CALL_FAILED = "Máy chưa báo được cán bộ. Vui lòng đến quầy tiếp nhận để được giúp."


def help_text(state: str) -> str:
    return HELP.get(state, HELP_DEFAULT)


def rejected_code(reason_vi: str) -> UserMessage:
    return UserMessage("Không đọc được mã QR", reason_vi,
                       "Đưa mã QR đăng nhập trong ứng dụng VNeID vào khung trước camera.", kind="bad_code")

