"""`kiosk provision` under --root: from a file, from flags and interactively; idempotent re-runs that keep the
kiosk's credentials; answers checked by kiosk.appliance.config before anything is written."""
from __future__ import annotations

import argparse
import io
import json
import os
import tomllib
from pathlib import Path

import httpx
import pytest

from kiosk.appliance import config

from kiosk.cli import main as kiosk_main
from kiosk.cli import provision as provision_cli
from kiosk.sandbox import start_sandbox
from kiosk.appliance.technician import verify_pin

PIN = "480265"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    handle = start_sandbox(tmp_path_factory.mktemp("portal") / "portal.sqlite3")
    yield handle
    handle.stop()


_codes = iter(range(1000, 10000))


def fresh_code() -> str:
    return f"ENROL-TEST-{next(_codes):04d}"


def run(argv: list[str], stdin: str = "", monkeypatch=None, capsys=None) -> tuple[int, str]:
    """`kiosk provision ...` with every option kiosk.cli.provision declares."""
    parser = argparse.ArgumentParser()
    provision_cli.add_arguments(parser)
    args = parser.parse_args(argv)
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = provision_cli.run(args)
    out = capsys.readouterr().out if capsys is not None else ""
    return code, out


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int, int]]:
    """Every file under root: content (or link target), mode, mtime."""
    files = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            files[str(path.relative_to(root))] = (os.readlink(path), 0, st.st_mtime_ns)
        elif path.is_file():
            files[str(path.relative_to(root))] = (path.read_bytes(), st.st_mode & 0o7777, st.st_mtime_ns)
    return files


def site_file(root: Path) -> dict:
    return tomllib.loads((root / "etc/dvc-kiosk/kiosk.toml").read_text())


def answers_file(tmp_path: Path, sandbox, kiosk_id: str = "KIOSK-HN-0042", **provision_keys: str) -> Path:
    path = tmp_path / "site.toml"
    extra = "".join(f'{k} = "{v}"\n' for k, v in provision_keys.items())
    path.write_text(f"""
[kiosk]
id = "{kiosk_id}"
centre_name = "Bộ phận Một cửa UBND xã Đông Anh"
commune = "Xã Đông Anh"
agency_code = "H26.05"

[portal]
url = "{sandbox.url}"

[printer]
driver = "fake"
width_dots = 384

[scanner]
driver = "fake"

[code_reader]
driver = "fake"

[provision]
{extra}""", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- from a file
def test_from_file_writes_a_loadable_site_with_private_credentials(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code(), technician_pin=PIN)
    code, out = run(["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test"],
                    monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out
    site = config.load(root / "etc/dvc-kiosk/kiosk.toml")
    assert site.kiosk.id == "KIOSK-HN-0042" and site.kiosk.commune == "Xã Đông Anh"
    assert site.portal.url == sandbox.url and site.printer.width_dots == 384
    assert site.portal.credentials_file == "/etc/dvc-kiosk/credentials.json"
    assert verify_pin(PIN, site.kiosk.technician_pin_hash)
    credentials = json.loads((root / "etc/dvc-kiosk/credentials.json").read_text())
    assert credentials["kiosk_id"] == "KIOSK-HN-0042"
    # The token works: the portal accepts a heartbeat signed with it.
    beat = {"sent_at": "2026-11-23T07:00:00Z", "app_version": "test", "uptime_seconds": 1}
    accepted = httpx.post(f"{sandbox.url}/api/v1/kiosks/KIOSK-HN-0042/heartbeat", json=beat,
                          headers={"X-Kiosk-Token": credentials["kiosk_token"]})
    assert accepted.status_code == 200
    modes = {name: mode for name, (_, mode, _) in snapshot(root).items()}
    assert modes["etc/dvc-kiosk/credentials.json"] == 0o600
    assert modes["etc/dvc-kiosk/kiosk.toml"] == 0o640
    assert modes["usr/lib/dvc-kiosk/dvc-kiosk-session"] == 0o755
    assert (root / "var/lib/dvc-kiosk").stat().st_mode & 0o777 == 0o700
    assert os.readlink(root / "etc/systemd/system/graphical.target.wants/dvc-kiosk.service") \
        == "/etc/systemd/system/dvc-kiosk.service"
    # The PIN itself is written nowhere.
    for name, (content, _, _) in snapshot(root).items():
        assert PIN.encode() not in (content if isinstance(content, bytes) else content.encode()), name


def test_rerun_is_idempotent_and_keeps_credentials(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code(), technician_pin=PIN)
    argv = ["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test", "--json"]
    assert run(argv, monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    before = snapshot(root)
    code, out = run(argv, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    statuses = {s["name"]: s["status"] for s in json.loads(out)["steps"]}
    assert statuses == {"kiosk user": "skipped", "site config": "unchanged", "credentials": "unchanged",
                        "units": "unchanged", "outbox key": "skipped", "self-test": "skipped"}
    assert snapshot(root) == before  # not one byte, mode or timestamp changed


def test_changed_answer_rewrites_config_but_keeps_token(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code())
    base = ["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test"]
    assert run(base, monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    token = (root / "etc/dvc-kiosk/credentials.json").read_bytes()
    (root / "etc/dvc-kiosk/kiosk.toml").write_text(
        (root / "etc/dvc-kiosk/kiosk.toml").read_text() + '\n[payment]\nbank_bin = "970415"\n')
    assert run(base + ["--centre-name", "Trung tâm Phục vụ hành chính công xã Đông Anh"],
               monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    site = site_file(root)
    assert site["kiosk"]["centre_name"] == "Trung tâm Phục vụ hành chính công xã Đông Anh"
    assert site["payment"]["bank_bin"] == "970415"  # hand-added keys survive
    assert (root / "etc/dvc-kiosk/credentials.json").read_bytes() == token


def test_another_kiosk_id_needs_a_new_enrolment(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code())
    base = ["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test", "--json"]
    assert run(base, monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    old = (root / "etc/dvc-kiosk/credentials.json").read_bytes()
    answers.write_text(answers.read_text().replace('enrolment_code = "', 'old_code = "'))
    code, out = run(base + ["--kiosk-id", "KIOSK-HN-0043"], monkeypatch=monkeypatch, capsys=capsys)
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    assert code == 1 and steps["credentials"]["status"] == "failed"
    assert "enrolment code" in steps["credentials"]["detail"]
    assert (root / "etc/dvc-kiosk/credentials.json").read_bytes() == old


def test_missing_enrolment_code_fails_but_writes_the_rest(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    code, out = run(["--root", str(root), "--from-file", str(answers_file(tmp_path, sandbox)), "--non-interactive",
                     "--no-self-test"], monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert "FAILED" in out and "--enrolment-code" in out
    assert (root / "etc/dvc-kiosk/kiosk.toml").exists()
    assert not (root / "etc/dvc-kiosk/credentials.json").exists()


def test_refused_enrolment_code_is_explained(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    code, out = run(["--root", str(root), "--from-file", str(answers_file(tmp_path, sandbox)), "--non-interactive",
                     "--no-self-test", "--enrolment-code", "ENROL-TEST-EXPIRED"],
                    monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "enrolment_code_expired" in out and "new one" in out


# ---------------------------------------------------------------------------------------------- from flags
def test_from_flags_only(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    code, out = run(["--root", str(root), "--non-interactive", "--no-self-test", "--kiosk-id", "KIOSK-CB-0007",
                     "--centre-name", "Bộ phận Một cửa UBND xã Cao Bằng", "--commune", "Xã Cao Bằng",
                     "--agency-code", "H04.01",
                     "--portal-url", sandbox.url, "--enrolment-code", fresh_code(), "--printer", "escpos",
                     "--printer-connection", "network", "--printer-host", "10.20.0.7", "--printer-port", "9100",
                     "--set", "printer.width_dots=384", "--scanner", "sane", "--code-reader", "hid",
                     "--code-reader-device", "/dev/input/by-id/usb-reader-event-kbd", "--technician-pin-stdin"],
                    stdin=PIN + "\n", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out
    site = site_file(root)
    assert site["kiosk"]["id"] == "KIOSK-CB-0007"
    expected = {"driver": "escpos", "connection": "network", "host": "10.20.0.7", "port": 9100, "width_dots": 384}
    assert {k: site["printer"][k] for k in expected} == expected
    assert isinstance(site["printer"]["width_dots"], int)  # typed as the config types it, not the string "384"
    assert site["scanner"]["driver"] == "sane" and site["code_reader"]["driver"] == "hid"
    assert verify_pin(PIN, site["kiosk"]["technician_pin_hash"])


def test_flags_override_the_file(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code())
    assert run(["--root", str(root), "--from-file", str(answers), "--non-interactive", "--no-self-test",
                "--commune", "Xã Kim Chung"], monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    assert site_file(root)["kiosk"]["commune"] == "Xã Kim Chung"


@pytest.mark.parametrize("flags, key", [
    (["--portal-url", "ftp://portal.example"], "portal.url"),
    (["--kiosk-id", "kiosk with spaces"], "kiosk.id"),
    (["--set", "printer.port=70000"], "printer.port"),
    (["--set", "printer.colour=red"], "printer.colour"),
])
def test_invalid_answers_stop_before_anything_is_written(tmp_path, flags, key, monkeypatch, capsys):
    root = tmp_path / "root"
    code, _ = run(["--root", str(root), "--non-interactive", "--no-self-test", *flags], monkeypatch=monkeypatch)
    assert code == 2
    assert key in capsys.readouterr().err
    assert not root.exists()


def test_weak_pin_is_refused(tmp_path, sandbox, monkeypatch, capsys):
    code, _ = run(["--root", str(tmp_path / "root"), "--non-interactive", "--technician-pin-stdin"], stdin="1234\n",
                  monkeypatch=monkeypatch)
    assert code == 2 and "6 đến 12" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- interactive
def test_interactive_with_scripted_stdin(tmp_path, sandbox, monkeypatch, capsys):
    root = tmp_path / "root"
    answers = [
        "KIOSK-TN-0001",       # kiosk id
        "Bộ phận Một cửa UBND xã Tân Thanh",  # centre name
        "Xã Tân Thanh",        # commune
        "",                    # agency code: keep the default
        "sideways",            # orientation: invalid, asked again
        "portrait",
        sandbox.url,           # portal URL
        "",                    # CA file: none
        "escpos",              # printer driver
        "usb",                 # connection
        "",                    # profile: default
        "384",                 # width
        "0x0416",              # USB vendor
        "0x5011",              # USB product
        "fake",                # scanner
        "fake",                # code reader
        fresh_code(),          # enrolment code
        PIN, "000000",         # PIN, mistyped confirmation
        PIN, PIN,              # PIN again, confirmed
    ]
    code, out = run(["--root", str(root), "--no-self-test"], stdin="\n".join(answers) + "\n",
                    monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out
    assert out.count("Screen orientation") == 2  # re-asked after the invalid answer
    assert "The two PINs differ" in out
    site = site_file(root)
    assert site["kiosk"]["orientation"] == "portrait" and site["kiosk"]["agency_code"] == "000.20.31.H38"
    assert site["printer"]["connection"] == "usb" and site["printer"]["usb_vendor"] == 0x0416
    assert verify_pin(PIN, site["kiosk"]["technician_pin_hash"])
    assert (root / "etc/dvc-kiosk/credentials.json").exists()

    # A second interactive run offers the current values as defaults: Enter everywhere changes nothing.
    before = snapshot(root)
    code, out = run(["--root", str(root), "--no-self-test"], stdin="\n" * 40, monkeypatch=monkeypatch,
                    capsys=capsys)
    assert code == 0, out
    assert "[KIOSK-TN-0001]" in out and "Enrolment code" not in out  # enrolled already: not asked again
    assert snapshot(root) == before


def test_interactive_input_ending_early_is_an_error(tmp_path, monkeypatch, capsys):
    code, _ = run(["--root", str(tmp_path / "root"), "--no-self-test"], stdin="KIOSK-X\n", monkeypatch=monkeypatch)
    assert code == 2 and "input ended" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the real CLI
def test_through_kiosk_cli_with_self_test(tmp_path, sandbox, capsys, monkeypatch):
    """The command as the lead's CLI declares it today (--root, --from-file, --non-interactive): the self-test
    runs kiosk doctor's quick checks against the sandbox with the fake devices."""
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    root = tmp_path / "root"
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code())
    code = kiosk_main(["provision", "--root", str(root), "--from-file", str(answers), "--non-interactive"])
    out = capsys.readouterr().out
    assert "self-test" in out
    self_test = next(line for line in out.splitlines() if line.startswith("self-test"))
    assert code == 0, out
    try:
        import kiosk.appliance.doctor  # noqa: F401 - written by another engineer; provisioning skips the test without it
    except ImportError:
        assert "SKIPPED" in self_test
    else:
        assert "DONE" in self_test and "portal: ok" in self_test and "printer: warning" in self_test
        assert 'SIMULATED (driver "fake")' in self_test


# ---------------------------------------------------------------------------------------------- missing answers
def test_non_interactive_with_answers_missing_fails_naming_them(tmp_path, sandbox, monkeypatch, capsys):
    """Not the demo's settings (KIOSK-DEMO-01, a loopback portal, fake drivers) written as a site's."""
    root = tmp_path / "root"
    code, _ = run(["--root", str(root), "--non-interactive", "--no-self-test", "--kiosk-id", "KIOSK-HN-0042"],
                  monkeypatch=monkeypatch)
    err = capsys.readouterr().err
    assert code == 2
    for missing in ("kiosk.centre_name (--centre-name)", "kiosk.commune", "kiosk.agency_code", "portal.url",
                    "printer.driver", "scanner.driver", "code_reader.driver"):
        assert missing in err, err
    assert "kiosk.id" not in err and "kiosk.orientation" not in err  # given, and optional
    assert not root.exists()


def test_non_interactive_asks_for_what_the_chosen_driver_needs(tmp_path, sandbox, monkeypatch, capsys):
    answers = answers_file(tmp_path, sandbox, enrolment_code=fresh_code())
    code, _ = run(["--root", str(tmp_path / "root"), "--from-file", str(answers), "--non-interactive",
                   "--no-self-test", "--printer", "escpos", "--printer-connection", "network"],
                  monkeypatch=monkeypatch)
    err = capsys.readouterr().err
    assert code == 2 and "printer.host (--printer-host)" in err and "printer.port" not in err
