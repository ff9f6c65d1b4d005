"""National statuses 1-10 (issue 14): contract, sandbox, and the status screen for each (one Kivy process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.ui
def test_every_status_renders_on_the_status_screen(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIVY_NO_ARGS="1", KIVY_HOME=str(Path(__file__).resolve().parent.parent / ".kivy"))
    worker = Path(__file__).parent / "status_screen_worker.py"
    subprocess.run([sys.executable, str(worker), str(tmp_path)], check=True, env=env, timeout=300,
                   capture_output=True)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    for n, label in OFFICIAL.items():
        assert (tmp_path / f"status-{n}.png").stat().st_size > 10_000
        text = json.dumps(report[str(n)], ensure_ascii=False)
        assert label in text, n
        assert STATUS_HELP[n].next_step[:20] in text, n
    assert "mã thanh toán" in json.dumps(report["6"], ensure_ascii=False)
    assert "8.000 đ" in json.dumps(report["6"], ensure_ascii=False)
    assert "Cần bổ sung" in json.dumps(report["5"], ensure_ascii=False)
    assert "Nơi nhận kết quả" in json.dumps(report["9"], ensure_ascii=False)
