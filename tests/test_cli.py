"""The `kiosk` command line: its structure (one module per command, no "module:func" strings, kiosk/ never
imports screens), what every option says, and the technician-facing behaviour of the small commands."""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import __version__
from kiosk.cli import main
from kiosk.cli import parser as kiosk_parser

REPO = Path(__file__).resolve().parents[1]


def _all_parsers(parser: argparse.ArgumentParser, path: str = "kiosk"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, f"{path} {name}")


def _full_parser() -> argparse.ArgumentParser:
    from screens.main import build_parser

    return build_parser()


def test_every_option_of_every_command_has_help() -> None:
    missing = [f"{path}: {action.option_strings or action.dest}"
               for path, parser in _all_parsers(_full_parser()) for action in parser._actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []


def test_the_full_command_has_the_ui_commands_and_kiosk_cli_has_none() -> None:
    full = {path for path, _ in _all_parsers(_full_parser())}
    assert {"kiosk run", "kiosk demo", "kiosk simulate", "kiosk status", "kiosk outbox list", "kiosk qr decode"} <= full
    plain = {path for path, _ in _all_parsers(kiosk_parser.build_parser())}
    assert not {"kiosk run", "kiosk demo", "kiosk simulate"} & plain


def test_commands_are_modules_with_add_arguments_and_run_and_no_module_func_strings() -> None:
    for command in kiosk_parser.COMMANDS:
        assert callable(command.add_arguments) and callable(command.run) and command.HELP, command
    for path in (REPO / "kiosk" / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "importlib" not in text, path
        assert not re.search(r"[\"'][a-z_.]+:[a-z_]+[\"']", text), path  # no "module:func" handlers


def test_kiosk_never_imports_screens() -> None:
    offenders = [str(path.relative_to(REPO)) for path in (REPO / "kiosk").rglob("*.py")
                 if any(line.lstrip().startswith(("from screens", "import screens"))
                        for line in path.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0 and capsys.readouterr().out.strip() == f"kiosk {__version__}"


def test_pyproject_script_is_the_composition_root() -> None:
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["kiosk"] == "screens.main:main"


def test_kiosk_status_loads_neither_kivy_nor_opencv() -> None:
    code = ("import sys\n"
            "from screens.main import main\n"
            "rc = main(['status', 'HS-0001', '--portal', 'http://127.0.0.1:9'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'cv2', 'zxingcpp'))\n"
            "print(rc, heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"KIVY_NO_ARGS": "1", "PATH": "/usr/bin:/bin", "HOME": str(REPO / ".kivy")})
    assert proc.stdout.strip().endswith("[]"), proc.stdout + proc.stderr


def test_python_m_screens_main_runs_the_kiosk_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "screens.main", "--version"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={"KIVY_NO_ARGS": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and proc.stdout.strip() == f"kiosk {__version__}", proc.stderr


def test_outbox_list_json_is_an_empty_array_when_empty(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path / "data"))
    assert main(["outbox", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_qr_decode_of_a_missing_file_says_so(tmp_path, capsys) -> None:
    missing = tmp_path / "nope.png"
    assert main(["qr", "decode", str(missing)]) == 2
    captured = capsys.readouterr()
    assert f"no such file: {missing}" in captured.err and captured.out == ""


CITIZEN_PHRASES = ("cán bộ", "quầy", "Vui lòng", "vui lòng", "hỏi người dân")


def test_technician_commands_speak_english() -> None:
    """The CLI's own messages are for technicians: no citizen-facing Vietnamese advice."""
    for path in [*(REPO / "kiosk" / "cli").glob("*.py"), REPO / "kiosk" / "appliance" / "doctor.py"]:
        text = path.read_text(encoding="utf-8")
        assert not [p for p in CITIZEN_PHRASES if p in text], path


def test_appointment_errors_are_technician_english(capsys) -> None:
    assert main(["appointment", "--procedure", "1.001193", "--received", "hôm qua"]) == 2
    err = capsys.readouterr().err
    assert "not an ISO date-time" in err and "Hãy" not in err


def test_pages_pack_of_a_missing_file_says_so(tmp_path, capsys) -> None:
    missing = tmp_path / "p1.png"
    assert main(["pages", "pack", "-o", str(tmp_path / "x.pdf"), str(missing)]) == 2
    assert f"no such file: {missing}" in capsys.readouterr().err


def test_kiosk_run_warns_loudly_about_simulated_devices(tmp_path, monkeypatch, caplog) -> None:
    import logging
    import types

    from screens import kivy_env, launch

    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KIOSK_KIOSK__LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setattr(kivy_env, "configure", lambda **kw: None)
    ran = []
    monkeypatch.setitem(sys.modules, "screens.app", types.SimpleNamespace(run_app=lambda services: ran.append(1) or 0))
    with caplog.at_level(logging.WARNING):
        assert launch.run(argparse.Namespace(windowed=True)) == 0
    assert ran == [1]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any('SIMULATED devices (driver "fake"): scanner, printer, code_reader' in w for w in warnings), warnings


def test_demo_builds_simulate_arguments_from_the_full_parser() -> None:
    args = _full_parser().parse_args(["simulate", "--portal", "http://127.0.0.1:1", "--out", "x"])
    from screens import simulate

    assert args.func is simulate.run and args.size == "1920x1080" and args.login_code == "VNEID-TEST-0001"


def test_kiosk_cli_alone_points_ui_commands_to_screens_main(capsys) -> None:
    assert main(["demo"]) == 2
    assert "python -m screens.main demo" in capsys.readouterr().err
