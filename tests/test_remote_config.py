"""Settings pushed from the portal: an administrator changes a kiosk without touching it. The heartbeat says a
newer version exists, the kiosk fetches it, checks it like a site file, keeps it in its data folder, and the
next start uses it; keys the portal may not set, and values that fail validation, never take effect."""
from __future__ import annotations

import types

import httpx
import pytest

from kiosk.appliance import config

from kiosk.appliance import remote_config
from kiosk.appliance.fleet import FleetMonitor, HeartbeatSender
from kiosk.portal.client import PortalClient
from test_fleet import KIOSK_ID, enrolled, heartbeats_at, make_services, sandbox  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("KIOSK_"):
            monkeypatch.delenv(key)


def push(sandbox, settings: dict) -> int:  # noqa: F811
    r = httpx.put(f"{sandbox.url}/api/v1/sandbox/kiosks/{KIOSK_ID}/config", json=settings, timeout=5)
    r.raise_for_status()
    return r.json()["version"]


def sender_for(sandbox, credentials, data_dir) -> HeartbeatSender:  # noqa: F811
    return HeartbeatSender(FleetMonitor(make_services()), lambda: PortalClient(sandbox.url, kiosk_id=KIOSK_ID),
                           credentials, data_dir=data_dir)


def test_new_settings_reach_the_kiosk_and_the_next_start(sandbox, enrolled, tmp_path):  # noqa: F811
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    push(sandbox, {"kiosk": {"centre_name": "Bộ phận Một cửa UBND xã Bản Lầu", "inactivity_seconds": 120},
                   "printer": {"width_dots": 384}, "payment": {"bank_bin": "970415", "account": "113366668888"},
                   "portal": {"url": "http://evil.example"}, "kiosk_extra": {"x": 1}})
    sender = sender_for(sandbox, enrolled, data_dir)
    assert sender.send_once()
    assert sender.config_changed.is_set(), "the kiosk did not take the new settings"
    s = config.load(kiosk={"data_dir": str(data_dir)})
    assert s.kiosk.centre_name == "Bộ phận Một cửa UBND xã Bản Lầu"
    assert s.kiosk.inactivity_seconds == 120
    assert s.printer.width_dots == 384
    assert s.payment.bank_bin == "970415"
    assert s.portal.url != "http://evil.example", "the portal must not be able to redirect a kiosk"
    # the same version again changes nothing
    sender.config_changed.clear()
    assert sender.send_once() and not sender.config_changed.is_set()


def test_a_bad_value_is_refused_and_the_previous_settings_stay(sandbox, enrolled, tmp_path):  # noqa: F811
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    push(sandbox, {"printer": {"width_dots": 512}})
    sender = sender_for(sandbox, enrolled, data_dir)
    sender.send_once()
    sender.config_changed.clear()
    push(sandbox, {"printer": {"width_dots": 9}})
    assert sender.send_once()
    assert not sender.config_changed.is_set()
    assert config.load(kiosk={"data_dir": str(data_dir)}).printer.width_dots == 512


@pytest.mark.parametrize("printer", [{"profile": "TM-T20 II"}, {"profile": "TM-T20III-typo", "width_dots": 512}])
def test_a_printer_profile_the_driver_does_not_know_is_refused_and_nothing_restarts(tmp_path, printer):
    assert remote_config.apply(tmp_path, 1, {"printer": {"profile": "TM-T20II", "width_dots": 512}})
    assert not remote_config.apply(tmp_path, 2, {"printer": printer})
    assert remote_config.read_overlay(tmp_path) == (1, {"printer": {"profile": "TM-T20II", "width_dots": 512}})


def test_a_push_whose_keys_are_all_refused_changes_nothing_and_restarts_nothing(sandbox, enrolled, tmp_path):  # noqa: F811
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    push(sandbox, {"portal": {"url": "http://evil.example"}, "kiosk": {"id": "OTHER", "technician_pin_hash": "x"}})
    sender = sender_for(sandbox, enrolled, data_dir)
    assert sender.send_once()
    assert not sender.config_changed.is_set(), "a push with nothing acceptable must not restart the kiosk"
    assert not remote_config.path_in(data_dir).exists()


def test_pushed_text_is_bounded(tmp_path):
    assert not remote_config.apply(tmp_path, 1, {"kiosk": {"centre_name": "Bộ phận " * 100}})
    assert not remote_config.apply(tmp_path, 2, {"kiosk": {"centre_name": "UBND\x1b[2J"}})
    assert remote_config.apply(tmp_path, 3, {"kiosk": {"centre_name": "Bộ phận Một cửa UBND xã Bản Lầu"}})


def test_environment_still_wins_over_pushed_settings(tmp_path, monkeypatch):
    assert remote_config.apply(tmp_path, 3, {"printer": {"width_dots": 384}})
    monkeypatch.setenv("KIOSK_PRINTER__WIDTH_DOTS", "576")
    assert config.load(kiosk={"data_dir": str(tmp_path)}).printer.width_dots == 576


def test_an_older_version_never_replaces_a_newer_one(tmp_path):
    assert remote_config.apply(tmp_path, 5, {"printer": {"width_dots": 384}})
    assert not remote_config.apply(tmp_path, 4, {"printer": {"width_dots": 576}})
    assert remote_config.read_overlay(tmp_path) == (5, {"printer": {"width_dots": 384}})


# ------------------------------------------------------------------------------------- checked as the drivers would
def refusal(settings: dict) -> remote_config.PushRefused:
    with pytest.raises(remote_config.PushRefused) as refused:
        remote_config.check(7, settings)
    return refused.value


def test_a_typo_in_the_printer_profile_is_a_typed_refusal():
    problems = refusal({"printer": {"profile": "TM-T20 II"}}).problems
    assert [(p.key, p.code) for p in problems] == [("printer.profile", "printer_profile_unknown")]
    assert all(isinstance(p, remote_config.SettingRefused) for p in problems)
    assert remote_config.check(7, {"printer": {"profile": "TM-T20II"}}) == {"printer": {"profile": "TM-T20II"}}


@pytest.mark.parametrize("settings, key, code", [
    ({"printer": {"driver": "escpso"}}, "printer.driver", "driver_unknown"),
    ({"code_reader": {"driver": "fake"}}, "code_reader.driver", "driver_simulated"),
    ({"printer": {"serial_device": "/dev/../etc/shadow"}}, "printer.serial_device", "device_name_invalid"),
    ({"printer": {"serial_device": "ttyUSB0"}}, "printer.serial_device", "device_name_invalid"),
    ({"printer": {"host": "printer host;rm"}}, "printer.host", "device_name_invalid"),
    ({"scanner": {"device": "fujitsu fi-7160"}}, "scanner.device", "device_name_invalid"),
    ({"code_reader": {"device": "C:\\scanner"}}, "code_reader.device", "device_name_invalid"),
    ({"printer": {"cups_queue": "x" * 300}}, "printer.cups_queue", "text_invalid"),
])
def test_devices_the_drivers_could_not_open_are_refused(settings, key, code):
    assert [(p.key, p.code) for p in refusal(settings).problems] == [(key, code)]


def test_device_names_of_the_right_shape_are_taken():
    kept = remote_config.check(8, {"printer": {"driver": "escpos", "connection": "serial",
                                               "serial_device": "/dev/serial/by-id/usb-EPSON_TM-T20II-if00"},
                                   "scanner": {"device": "fujitsu:fi-7160:12345"},
                                   "code_reader": {"device": "/dev/input/by-id/usb-Honeywell-event-kbd"}})
    assert kept["printer"]["driver"] == "escpos" and kept["scanner"]["device"] == "fujitsu:fi-7160:12345"


def test_a_push_whose_keys_are_all_refused_is_a_typed_refusal_and_saves_nothing(tmp_path):
    problems = refusal({"portal": {"url": "http://evil.example"}}).problems
    assert [(p.key, p.code) for p in problems] == [("portal.url", "key_not_allowed")]
    assert not remote_config.apply(tmp_path, 1, {"portal": {"url": "http://evil.example"}})
    assert not remote_config.path_in(tmp_path).exists()


# ---------------------------------------------------------------------------------------------- last known good
class DeviceWontOpen(Exception):
    pass


def loader(data_dir):
    def load(**overrides):
        return config.load(kiosk={"data_dir": str(data_dir)}, **overrides)
    return load


def build_failing_when(width: int, built: list):
    """services.build stand-in: the printer will not open at `width` dots (what only the hardware can tell)."""
    def build(settings):
        built.append(settings.printer.width_dots)
        if settings.printer.width_dots == width:
            raise DeviceWontOpen("printer")
        return types.SimpleNamespace(config=settings)
    return build


def test_a_failed_start_after_a_push_goes_back_to_the_last_good_settings_and_says_so(sandbox, enrolled, tmp_path):  # noqa: F811
    from kiosk.appliance.runtime import start_services

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    sender = sender_for(sandbox, enrolled, data_dir)
    sender.monitor.services.config = config.load(kiosk={"data_dir": str(data_dir), "id": KIOSK_ID})
    good = push(sandbox, {"printer": {"width_dots": 512}})
    assert sender.send_once() and sender.config_changed.is_set()
    built: list[int] = []
    assert start_services(loader(data_dir), build_failing_when(384, built)).config.printer.width_dots == 512
    bad = push(sandbox, {"printer": {"width_dots": 384}})  # valid, but this unit's printer will not open with it
    sender.config_changed.clear()
    assert sender.send_once() and sender.config_changed.is_set()
    svc = start_services(loader(data_dir), build_failing_when(384, built))
    assert built[-2:] == [384, 512], "the kiosk must retry once with the last known good settings"
    assert svc.config.printer.width_dots == 512
    assert remote_config.read_overlay(data_dir) == (good, {"printer": {"width_dots": 512}})
    sender.config_changed.clear()
    assert sender.send_once()
    assert heartbeats_at(sandbox)[-1]["settings"] == {"version": good, "rolled_back_from": bad,
                                                              "reason": "DeviceWontOpen"}
    # no restart loop: the portal still offers the bad version, the kiosk never takes it again
    assert not sender.config_changed.is_set()
    assert not remote_config.apply(data_dir, bad, {"printer": {"width_dots": 384}})
    assert start_services(loader(data_dir), build_failing_when(384, built)).config.printer.width_dots == 512
    assert built[-1] == 512
    # a newer push is taken, and once it starts the report clears
    newer = push(sandbox, {"printer": {"width_dots": 576}})
    assert sender.send_once() and sender.config_changed.is_set()
    start_services(loader(data_dir), build_failing_when(384, built))
    assert remote_config.status(data_dir) == {"version": newer, "rolled_back_from": None, "reason": ""}


def test_a_failed_start_with_nothing_to_fall_back_to_is_raised_not_retried(tmp_path):
    from kiosk.appliance.runtime import start_services

    built: list[int] = []
    with pytest.raises(DeviceWontOpen):
        start_services(loader(tmp_path), build_failing_when(576, built))  # the site file's own settings
    assert built == [576]
    assert remote_config.status(tmp_path)["rolled_back_from"] is None


def test_a_first_push_that_fails_to_start_falls_back_to_the_site_file(tmp_path):
    from kiosk.appliance.runtime import start_services

    assert remote_config.apply(tmp_path, 3, {"printer": {"width_dots": 384}})
    built: list[int] = []
    assert start_services(loader(tmp_path), build_failing_when(384, built)).config.printer.width_dots == 576
    assert built == [384, 576] and not remote_config.path_in(tmp_path).exists()
    assert remote_config.status(tmp_path) == {"version": 0, "rolled_back_from": 3, "reason": "DeviceWontOpen"}
    assert remote_config.known_version(tmp_path) == 3


def test_kiosk_run_with_a_profile_typo_saved_by_an_older_kiosk_starts_on_the_last_good_settings(tmp_path, monkeypatch):
    """The fault pass's case end to end: `printer.profile = "TM-T20 II"` in the saved overlay (accepted before
    values were checked) made the escpos driver fail at every start; `kiosk run` now starts anyway."""
    import argparse
    import sys

    import tomli_w

    from screens import kivy_env, launch

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    overlay = {"_version": 4, "printer": {"profile": "TM-T20 II"}}
    remote_config.path_in(data_dir).write_bytes(tomli_w.dumps(overlay).encode())
    for key, value in (("KIOSK__DATA_DIR", data_dir), ("KIOSK__LOG_DIR", tmp_path / "log"),
                       ("PRINTER__DRIVER", "escpos"),
                       ("PRINTER__CONNECTION", "file"), ("PRINTER__FILE_PATH", tmp_path / "printer.bin")):
        monkeypatch.setenv(f"KIOSK_{key}", str(value))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setattr(kivy_env, "configure", lambda **kw: None)
    started = []
    monkeypatch.setitem(sys.modules, "screens.app", types.SimpleNamespace(run_app=lambda svc: started.append(svc) or 0))
    assert launch.run(argparse.Namespace(windowed=True)) == 0
    assert len(started) == 1 and started[0].config.printer.profile == "TM-T20II"
    started[0].close()
    report = remote_config.status(data_dir)
    assert report["rolled_back_from"] == 4 and report["version"] == 0 and report["reason"]
