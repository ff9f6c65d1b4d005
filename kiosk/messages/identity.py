"""What a citizen (or the clerk helping them) reads when a login door fails: the VNeID QR the kiosk shows, the chip
in the ID card, the staff sign-in. Each says what happened, what to do now, and whom to ask. Never an error's text."""
from __future__ import annotations

from kiosk.messages import UserMessage, for_exception

COUNTER = "Vui lòng đến quầy tiếp nhận để được cán bộ hỗ trợ."

_BY_CODE: dict[str, tuple[str, str, str]] = {
    # VNeID QR shown by the kiosk (OpenID Connect device grant)
    "oidc_denied": ("Ông/Bà đã từ chối trên điện thoại", "Ứng dụng VNeID báo Ông/Bà không đồng ý đăng nhập.",
                    "Bấm “Tạo mã mới” để thử lại, hoặc chọn cách đăng nhập khác."),
    "oidc_expired": ("Mã QR đã hết hạn", "Mã QR trên màn hình đã quá thời gian sử dụng.",
                     "Máy đã tạo mã mới: mở ứng dụng VNeID và quét lại."),
    "oidc_replayed": ("Mã QR đã được dùng", "Mã QR này đã được dùng một lần và không dùng lại được.",
                      "Bấm “Tạo mã mới” rồi quét lại bằng ứng dụng VNeID."),
    "oidc_unavailable": ("Chưa kết nối được VNeID", "Máy chưa kết nối được hệ thống định danh VNeID.",
                         "Vui lòng chờ một lát rồi bấm “Tạo mã mới”, hoặc chọn cách đăng nhập khác."),
    "id_token_signature": ("Không xác thực được đăng nhập", "Thông tin đăng nhập nhận về không có chữ ký hợp lệ.",
                           "Máy không dùng thông tin này. Bấm “Tạo mã mới” hoặc hỏi cán bộ tại quầy."),
    "id_token_issuer": ("Không xác thực được đăng nhập", "Thông tin đăng nhập không do VNeID cấp.",
                        "Máy không dùng thông tin này. Bấm “Tạo mã mới” hoặc hỏi cán bộ tại quầy."),
    "id_token_audience": ("Không xác thực được đăng nhập", "Thông tin đăng nhập được cấp cho máy khác.",
                          "Máy không dùng thông tin này. Bấm “Tạo mã mới” hoặc hỏi cán bộ tại quầy."),
    "id_token_nonce": ("Không xác thực được đăng nhập", "Thông tin đăng nhập không khớp với mã QR trên màn hình.",
                       "Máy không dùng thông tin này. Bấm “Tạo mã mới” hoặc hỏi cán bộ tại quầy."),
    "id_token_expired": ("Đăng nhập đã hết hạn", "Thông tin đăng nhập nhận về đã hết hạn.",
                         "Bấm “Tạo mã mới” rồi quét lại bằng ứng dụng VNeID."),
    "id_token_invalid": ("Không xác thực được đăng nhập", "Cổng dịch vụ công không chấp nhận thông tin đăng nhập.",
                         "Bấm “Tạo mã mới” hoặc hỏi cán bộ tại quầy."),
    # staff sign-in
    "staff_pin_wrong": ("Mã cán bộ hoặc mã PIN chưa đúng", "Máy không nhận ra mã cán bộ hoặc mã PIN vừa nhập.",
                        "Cán bộ vui lòng nhập lại mã cán bộ và mã PIN do trung tâm cấp."),
    "staff_not_registered": ("Tài khoản VNeID này chưa được đăng ký là cán bộ",
                             "Máy chỉ nhận VNeID của cán bộ, tình nguyện viên đã được trung tâm đăng ký.",
                             "Cán bộ vui lòng nhập mã cán bộ và mã PIN do trung tâm cấp."),
    "staff_auth_required": ("Cần cán bộ đăng nhập", "Phiên đăng nhập của cán bộ đã hết.",
                            "Cán bộ vui lòng nhập lại mã cán bộ và mã PIN."),
    # the chip in the ID card
    "card_removed": ("Thẻ được lấy ra quá sớm", "Máy chưa đọc xong chip trong thẻ căn cước.",
                     "Đặt lại thẻ lên ô đọc thẻ và giữ yên đến khi máy báo xong. Thông tin đã nhập vẫn được giữ."),
    "no_card": ("Chưa thấy thẻ", "Máy chưa thấy thẻ căn cước trên ô đọc thẻ.",
                "Đặt thẻ căn cước lên ô đọc thẻ (có hình sóng) rồi bấm “Đọc lại”."),
    "card_access_denied": ("Không mở được chip", "Thông tin dùng để mở chip không khớp với thẻ này.",
                           "Quét lại mã QR ở mặt trước của chính thẻ này rồi bấm “Đọc lại”."),
    "card_not_trusted": ("Không xác thực được thẻ",
                         "Dữ liệu trong chip không khớp với chữ ký của cơ quan cấp thẻ, nên máy không dùng thẻ này.",
                         COUNTER),
    "card_expired": ("Thẻ căn cước đã hết hạn", "Thẻ căn cước này đã hết hạn sử dụng.", COUNTER),
    "card_unreadable": ("Không đọc được chip", "Chip trong thẻ không trả lời đúng cách.",
                        "Cán bộ có thể dùng mã QR trên thẻ để tiếp tục, hoặc " + COUNTER[0].lower() + COUNTER[1:]),
    "chip_device_gone": ("Máy đọc thẻ đang gặp sự cố", "Máy không kết nối được với bộ đọc thẻ chip.",
                         "Cán bộ có thể dùng mã QR trên thẻ để tiếp tục, hoặc báo kỹ thuật viên."),
    "chip_timeout": ("Máy đọc thẻ không phản hồi", "Bộ đọc thẻ chip không trả lời trong thời gian cho phép.",
                     "Bấm “Đọc lại”. Nếu vẫn lỗi, cán bộ có thể dùng mã QR trên thẻ để tiếp tục."),
    "chip_keys": ("Chưa có thông tin để mở chip", "Cần mã QR ở mặt trước thẻ căn cước (hoặc dòng MRZ ở mặt sau).",
                  "Đưa mã QR ở mặt trước thẻ căn cước vào trước camera."),
}


def message(code: str) -> UserMessage:
    title, text, next_step = _BY_CODE[code]
    return UserMessage(title, text, next_step, kind=code)


def for_login_error(error: BaseException) -> UserMessage:
    """A login-door failure: our identity codes first, the chip's typed errors, then the general mapping."""
    from drivers.base import DeviceGone, DeviceTimeout

    code = getattr(error, "code", "") or ""
    if code in _BY_CODE:
        return message(code)
    kind = getattr(error, "kind", "") or ""
    if kind in _BY_CODE:
        return message(kind)
    if isinstance(error, DeviceGone):
        return message("chip_device_gone")
    if isinstance(error, DeviceTimeout):
        return message("chip_timeout")
    return for_exception(error)
