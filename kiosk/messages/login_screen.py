"""What the login screen says (issue 11): the doors in plain words, the steps of each, the VNeID QR's states.
Short sentences for a citizen who may be 70 and has never used a kiosk; a next step in every state."""
from __future__ import annotations

#: The titles of the login screen, by door ("" = the choice of doors) and, for the clerk's sign-in, "staff".
TITLES = {
    "": "Ông/Bà muốn đăng nhập bằng cách nào?",
    "app_code": "Đưa mã QR trong ứng dụng VNeID vào camera",
    "qr_shown": "Dùng điện thoại quét mã QR trên màn hình",
    "chip": "Dùng thẻ căn cước gắn chip",
    "assisted": "Cán bộ hỗ trợ nộp hồ sơ",
    "staff": "Dành cho cán bộ: đăng nhập để hỗ trợ",
}

#: The three doors: (door, title, what it means, icon name). "app_code" is the phone door: its screen offers
#: the kiosk's own QR ("qr_shown") as the other way with the same phone.
DOORS = (
    ("app_code", "Tôi có điện thoại có VNeID", "Dùng ứng dụng VNeID trên điện thoại để đăng nhập.", "dien_thoai"),
    ("chip", "Tôi có thẻ căn cước gắn chip", "Máy đọc thẻ, cán bộ xác nhận giúp Ông/Bà.", "the_chip"),
    ("assisted", "Tôi cần cán bộ hỗ trợ", "Cán bộ đến giúp Ông/Bà nộp hồ sơ.", "ho_tro"),
)
CHOICE_HINT = "Nếu đã mở sẵn mã QR trong ứng dụng VNeID, Ông/Bà có thể đưa ngay vào camera."

APP_CODE_STEPS = (
    "1.  Mở ứng dụng VNeID trên điện thoại.",
    "2.  Chọn “Mã QR” để hiện mã đăng nhập.",
    "3.  Đưa màn hình điện thoại vào khung, cách khoảng một gang tay.",
)
APP_CODE_AUTO = "Máy sẽ tự đọc mã. Ông/Bà không cần bấm nút."

QR_STEPS = (
    "1.  Mở ứng dụng VNeID trên điện thoại.",
    "2.  Chọn “Quét mã QR”.",
    "3.  Hướng camera điện thoại vào mã QR trên màn hình.",
    "4.  Bấm “Đồng ý” trên điện thoại.",
)
#: What the QR door says in each state (the message panel says why it failed and what to do).
QR_STATE = {
    "": "Đang tạo mã QR…",
    "waiting": "Đang chờ Ông/Bà bấm “Đồng ý” trên điện thoại…",
    "approved": "Ông/Bà đã đồng ý trên điện thoại. Đang đăng nhập…",
    "denied": "Mã này không dùng được nữa.",
    "expired": "Mã đã hết hạn. Máy đang tạo mã mới, vui lòng chờ…",
}


def qr_countdown(seconds: int) -> str:
    return f"Mã còn dùng được {max(0, seconds)} giây. Máy tự đổi mã mới."


def user_code_text(code: str) -> str:
    """The user code, grouped for reading aloud to a clerk (BCDF-GHJK)."""
    return f"Mã: {code[:4]}-{code[4:]}" if len(code) == 8 else f"Mã: {code}"


#: The chip door's steps: (step id, words, icon name).
CHIP_STEPS = (
    ("id_qr", "Đưa mã QR mặt trước thẻ vào camera.", "the_qr"),
    ("card", "Đặt thẻ lên ô đọc thẻ, giữ yên.", "dat_the"),
    ("staff_pin", "Cán bộ xác nhận.", "ho_tro"),
)
DONE = "Đã xong"
NOW = "Bây giờ"
#: The large words beside the picture of what to do now, by step.
CHIP_NOW = {
    "id_qr": "Đưa mặt trước thẻ căn cước (có mã QR) vào camera, cách khoảng một gang tay.",
    "card": "Đặt thẻ căn cước lên ô đọc thẻ có hình sóng, mặt nào cũng được. Giữ yên thẻ đến khi máy báo xong.",
    "choose_qr_only": "Máy không đọc được chip. Cán bộ có thể tiếp tục bằng mã QR trên thẻ.",
    "counter": "Máy không dùng được thẻ này. Vui lòng đến quầy tiếp nhận để cán bộ hỗ trợ.",
    "opening": "Đang mở phiên nộp hồ sơ…",
}
CHIP_READ_TIME = "Máy đọc thẻ mất khoảng 5 giây."
NO_CHIP_READER = "Máy này chưa có bộ đọc thẻ chip. Cán bộ có thể tiếp tục bằng mã QR trên thẻ."

STAFF_INTRO = "Cán bộ hoặc tình nguyện viên nhập mã số và mã PIN do trung tâm cấp."
STAFF_VNEID = "Hoặc: cán bộ đưa mã QR trong ứng dụng VNeID của mình vào camera."
STAFF_KINDS = (("CB", "Cán bộ"), ("TNV", "Tình nguyện viên"))
STAFF_HELPING = "Cán bộ {name} đang hỗ trợ."
