"""The wheel check's own logic (the check itself is `make wheel-check`, which builds and installs a real wheel), and
the `sandbox` extra: without it `kiosk sandbox` says what to install instead of a traceback."""
from __future__ import annotations

import importlib.util
import zipfile

from kiosk.cli import main as kiosk_main
from wheel_check import expected_in_wheel, missing_from_wheel, source_files


def test_the_wheel_must_hold_every_shipped_file_and_the_code() -> None:
    expected = expected_in_wheel(source_files())
    for name in ("kiosk/_resources/config/kiosk.toml", "kiosk/_resources/config/procedures.json",
                 "kiosk/_resources/config/holidays.toml", "kiosk/_resources/assets/fonts/NotoSans-Regular.ttf",
                 "kiosk/_resources/docs/openapi.json", "kiosk/_resources/systemd/dvc-kiosk.service",
                 "screens/widgets.kv", "screens/app.py", "kiosk/resources.py", "drivers/registry.py"):
        assert name in expected, name
    assert any(n.startswith("kiosk/_resources/config/declarations/") for n in expected)
    assert not any(n.startswith("tests/") for n in expected)
    assert "kiosk/_resources/docs/architecture.md" not in expected  # only the OpenAPI copy of docs/ ships


def test_a_wheel_without_one_resource_is_refused_by_name(tmp_path) -> None:
    expected = expected_in_wheel(source_files())
    for left_out in ("kiosk/_resources/docs/openapi.json", "screens/form.kv",
                     "kiosk/_resources/assets/fonts/NotoSans-Bold.ttf"):
        wheel = tmp_path / f"without-{left_out.replace('/', '_')}.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            for name in sorted(expected - {left_out}):
                z.writestr(name, b"")
        assert missing_from_wheel(wheel, expected) == [left_out]


def test_kiosk_sandbox_without_the_sandbox_extra_names_it(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    assert kiosk_main(["sandbox", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "fastapi is not installed" in err and "pip install 'dvc-kiosk[sandbox]'" in err
