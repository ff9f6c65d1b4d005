"""What each national dossier status (TrangThaiHoSo 1-10) means for a citizen, and what to do next.

Plain words for the status look-up screen; the official label comes first (kiosk.portal.client.STATUS_LABELS).
Keys are the national numbers, so the domain needs nothing of the portal's contract.
"""
from __future__ import annotations

from typing import NamedTuple


class StatusHelp(NamedTuple):
    explanation: str
    next_step: str


STATUS_HELP: dict[int, StatusHelp] = {
    1: StatusHelp("Hồ sơ đã được gửi đến cơ quan, đang chờ cán bộ kiểm tra.",
                  "Bạn chưa cần làm gì. Giữ biên nhận để tra cứu."),
    2: StatusHelp("Cán bộ đã kiểm tra và nhận hồ sơ của bạn.",
                  "Chờ đến ngày hẹn trên biên nhận."),
    3: StatusHelp("Cơ quan không nhận hồ sơ này (không đúng thẩm quyền hoặc thiếu điều kiện).",
                  "Mang biên nhận đến quầy để cán bộ giải thích lý do và hướng dẫn."),
    4: StatusHelp("Cán bộ đang giải quyết hồ sơ của bạn.",
                  "Chờ đến ngày hẹn trên biên nhận."),
    5: StatusHelp("Hồ sơ còn thiếu hoặc cần sửa giấy tờ.",
                  "Mang đến quầy các giấy tờ được yêu cầu dưới đây, cùng biên nhận."),
    6: StatusHelp("Bạn cần nộp phí, lệ phí trước khi nhận kết quả.",
                  "Nộp số tiền dưới đây tại quầy hoặc chuyển khoản, ghi mã thanh toán."),
    7: StatusHelp("Hồ sơ đã được rút theo đề nghị của người nộp.",
                  "Muốn làm lại, hãy nộp hồ sơ mới."),
    8: StatusHelp("Cơ quan đã dừng giải quyết hồ sơ này.",
                  "Mang biên nhận đến quầy để biết lý do."),
    9: StatusHelp("Hồ sơ đã giải quyết xong, kết quả đã sẵn sàng.",
                  "Đến nhận kết quả tại nơi ghi dưới đây, mang theo biên nhận và căn cước."),
    10: StatusHelp("Kết quả đã được trả cho bạn.",
                   "Hồ sơ đã hoàn tất."),
}


def format_vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đ"


def status_lines(code: int | None, *, note: str = "", fee_amount: int | None = None, payment_code: str = "",
                 result_at: str = "") -> list[str]:
    """The explanation, the next step and the details that go with the status (5: what to bring,
    6: the fee and payment code, 9: where to collect)."""
    help_ = STATUS_HELP.get(code or 0)
    if help_ is None:
        return []
    lines = [help_.explanation, "Việc cần làm: " + help_.next_step]
    if code == 5 and note:
        lines.append("Cần bổ sung: " + note)
    if code == 6 and fee_amount is not None:
        lines.append(f"Số tiền: {format_vnd(fee_amount)}"
                     + (f" — mã thanh toán: {payment_code}" if payment_code else ""))
    if code == 9 and result_at:
        lines.append("Nơi nhận kết quả: " + result_at)
    return lines


__all__ = ["STATUS_HELP", "StatusHelp", "status_lines", "format_vnd"]
