"""Settings pushed from the portal: an administrator changes a kiosk without touching it. The heartbeat says a
newer version exists, the kiosk fetches it, checks it like a site file, keeps it in its data folder, and the
next start uses it; keys the portal may not set, and values that fail validation, never take effect."""
from __future__ import annotations

import httpx
import pytest

from kiosk.appliance import config

from kiosk.appliance import remote_config
from kiosk.appliance.fleet import FleetMonitor, HeartbeatSender
from kiosk.portal.client import PortalClient
from test_fleet import KIOSK_ID, enrolled, make_services, sandbox  # noqa: F401  (fixtures)


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
