"""Search speed on a large catalogue: every keystroke should update the list within 5 ms (median and p95,
reported against that target; a miss is a NO in the report, not a failed run)."""
from __future__ import annotations

import math
import random
import statistics
import time

import pytest

from kiosk.domain.catalog import Catalog, Procedure

# Real words of procedure names, recombined into a province-sized catalogue (about 2,000 procedures).
_ACTIONS = ["Đăng ký", "Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Xác nhận", "Thẩm định",
            "Chứng thực", "Công nhận", "Thu hồi", "Hỗ trợ", "Phê duyệt", "Chuyển đổi", "Bổ sung"]
_OBJECTS = ["khai sinh", "kết hôn", "khai tử", "giấy phép xây dựng", "giấy chứng nhận quyền sử dụng đất",
            "tạm trú", "thường trú", "bản sao từ bản chính", "chữ ký", "hộ kinh doanh", "giấy phép lái xe",
            "trợ cấp xã hội", "hộ nghèo", "chế độ người có công", "giám hộ", "nhận cha, mẹ, con",
            "thông tin hộ tịch", "tình trạng hôn nhân", "giấy phép khai thác nước", "phương án chữa cháy",
            "hợp đồng thế chấp", "di chúc", "văn bản thỏa thuận phân chia di sản", "mã số thuế",
            "bảo hiểm y tế", "học bổng chính sách", "giấy phép kinh doanh rượu", "biển số xe",
            "sổ đỏ", "quyền tác giả", "chứng chỉ hành nghề", "giấy phép lao động"]
_QUALIFIERS = ["", "cho người nước ngoài", "có yếu tố nước ngoài", "tại cấp xã", "trực tuyến",
               "cho trẻ em dưới 6 tuổi", "cho người cao tuổi", "trường hợp bị mất", "lần đầu",
               "do thay đổi thông tin", "đối với tổ chức", "đối với cá nhân", "ở khu vực biên giới"]
_FIELDS = ["Hộ tịch", "Chứng thực", "Cư trú", "Đất đai", "Xây dựng", "Bảo trợ xã hội", "Giao thông",
           "Kinh doanh", "Lao động", "Thuế", "Y tế", "Giáo dục"]

# Realistic queries, typed one key at a time (with and without marks, Telex left in, a typo, a code).
_QUERIES = ["dang ky khai sinh", "chứng thực bản sao", "kets hoon", "chungws thuwcj", "giay phep xay dung",
            "tam tru", "cap lai so do", "khia sinh", "1.0012", "ho tro nguoi cao tuoi"]


def _generated_catalog(n: int = 2000, seed: int = 7) -> Catalog:
    rng = random.Random(seed)
    procedures = []
    for i in range(n):
        name = " ".join(x for x in ("Thủ tục", rng.choice(_ACTIONS), rng.choice(_OBJECTS),
                                    rng.choice(_QUALIFIERS)) if x)
        procedures.append(Procedure(
            code=f"{rng.choice('12')}.{i + 1:06d}", name=name, plain=f"Giải thích ngắn cho {name.lower()}.",
            field=rng.choice(_FIELDS), popularity=rng.randint(0, 1000), source="generated for the benchmark"))
    return Catalog(procedures)


def _keystroke_ms(catalog: Catalog, prefix: str, repeats: int = 3) -> float:
    """Best of a few runs, as timeit does: the machine is shared, and a busy neighbour is not our latency."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        catalog.search(prefix, limit=10)
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best


@pytest.mark.bench
def test_search_keystroke_latency_on_2000_procedures(bench_report) -> None:
    catalog = _generated_catalog()
    started = time.perf_counter()
    catalog.search("a")  # builds the index, as the first keystroke on a booted kiosk does
    build_ms = (time.perf_counter() - started) * 1000

    timings = sorted(_keystroke_ms(catalog, query[:end]) for query in _QUERIES for end in range(1, len(query) + 1))
    median = statistics.median(timings)
    p95 = timings[math.ceil(len(timings) * 0.95) - 1]
    print(f"\nsearch over {len(catalog)} procedures: index build {build_ms:.0f} ms; "
          f"{len(timings)} keystrokes (best of 3 each): median {median:.2f} ms, p95 {p95:.2f} ms, "
          f"max {timings[-1]:.2f} ms")
    section = f"Search ({len(catalog)} procedures, {len(timings)} keystrokes, best of 3 each)"
    bench_report.add(section, "index build (first keystroke)", round(build_ms), "ms")
    bench_report.add(section, "keystroke, median", round(median, 2), "ms", "<= 5")
    bench_report.add(section, "keystroke, p95", round(p95, 2), "ms", "<= 5")
    bench_report.add(section, "keystroke, max", round(timings[-1], 2), "ms")
    assert all(catalog.search(q, limit=10) for q in ("khai sinh", "chung thuc"))  # the index answers at all
