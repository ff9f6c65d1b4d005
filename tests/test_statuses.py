"""National statuses 1-10 (issue 14): contract, sandbox, and the status screen for each (one Kivy process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from golden_compare import assert_matches_golden, load_capture, remove_captures

from kiosk.appliance import config
from kiosk.domain.codes import is_dossier_code
from kiosk.domain.statuses import STATUS_HELP
from kiosk.portal.client import STATUS_LABELS
from kiosk.portal.models import DossierStatus, NATIONAL_STATUS_CODE

OFFICIAL = {1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý", 5: "Yêu cầu bổ sung",
            6: "Yêu cầu nghĩa vụ tài chính", 7: "Công dân rút hồ sơ", 8: "Dừng xử lý", 9: "Đã xử lý xong",
            10: "Đã trả kết quả"}


def test_the_contract_has_the_national_list() -> None:
    assert sorted(NATIONAL_STATUS_CODE.values()) == list(range(1, 11))
    assert {NATIONAL_STATUS_CODE[s]: STATUS_LABELS[s] for s in DossierStatus} == OFFICIAL
    assert set(STATUS_HELP) == set(OFFICIAL)


def test_agency_code_is_qcvn_102_shaped_and_dossier_numbers_follow_circular_01() -> None:
    import re

    agency = config.load().kiosk.agency_code
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}", agency)
    assert is_dossier_code(f"{agency}-261202-0001")


GOLDEN = Path(__file__).resolve().parent / "golden" / "status"
ORIENTATIONS = ("landscape", "portrait")
CASES = [str(n) for n in OFFICIAL] + ["ask-secret", "wrong-secret"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("status")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIVY_NO_ARGS="1", KIVY_HOME=str(Path(__file__).resolve().parent.parent / ".kivy"))
    worker = Path(__file__).parent / "status_screen_worker.py"
    proc = subprocess.run([sys.executable, str(worker), str(out)], env=env, timeout=300, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield out, json.loads((out / "report.json").read_text(encoding="utf-8"))
    remove_captures(out)


def _shot(out: Path, name: str) -> np.ndarray:
    return load_capture(out / f"status-{name}.npy")


@pytest.mark.ui
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_every_status_renders_on_the_status_screen(rendered, orientation: str) -> None:
    out, report = rendered
    for n, label in OFFICIAL.items():
        facts = report[f"{n}-{orientation}"]
        text = json.dumps(facts["labels"], ensure_ascii=False)
        assert label in text, n
        assert STATUS_HELP[n].explanation in text and STATUS_HELP[n].next_step in text, n
        assert not facts["problems"], (n, facts["problems"])
        title = next(lab for lab in facts["labels"] if lab["text"] == "Tra cứu tình trạng hồ sơ")
        header = next(lab for lab in facts["labels"] if lab["text"].startswith("Bộ phận Một cửa"))
        assert title["y"] + title["h"] <= header["y"], (n, "the title runs under the header")
    six = json.dumps(report[f"6-{orientation}"], ensure_ascii=False)
    assert "mã thanh toán: TT" in six and "8.000 đ" in six
    import zxingcpp  # the VietQR on screen, read back from the picture: the amount due and the payment code

    from kiosk.domain.vietqr import parse_tlv
    [qr] = [r.text for r in zxingcpp.read_barcodes(Image.fromarray(_shot(out, f"6-{orientation}")).convert("L"))]
    fields = parse_tlv(qr)
    assert fields["54"] == "8000" and fields["62"]["08"].startswith("TT") and fields["62"]["08"] in six
    assert "Cần bổ sung: Bản chính Giấy chứng sinh" in json.dumps(report[f"5-{orientation}"], ensure_ascii=False)
    nine = report[f"9-{orientation}"]
    assert "Nơi nhận kết quả: Quầy trả kết quả" in json.dumps(nine, ensure_ascii=False)
    assert "In kết quả" in [lab["text"] for lab in nine["labels"]]  # a printable electronic copy: the button
    assert "In kết quả" not in [lab["text"] for lab in report[f"4-{orientation}"]["labels"]]
    asked = json.dumps(report[f"ask-secret-{orientation}"], ensure_ascii=False)
    assert "Cần mã tra cứu" in asked and "000.20.31.H38-260316-0042" in asked and "Chạm để nhập mã tra cứu" in asked
    assert "còn 3 lần" in json.dumps(report[f"wrong-secret-{orientation}"], ensure_ascii=False)


@pytest.mark.ui
@pytest.mark.parametrize("name", [f"{c}-{o}" for c in CASES for o in ORIENTATIONS])
def test_status_screen_matches_golden(rendered, name: str) -> None:
    out, _ = rendered
    assert_matches_golden(_shot(out, name), GOLDEN / f"status-{name}.png", out, f"status-{name}")
