"""Plain http:// to the portal is refused unless the portal is this machine (the sandbox) or a site explicitly
allows it (`portal.allow_insecure_http = true`, a closed test network) — issue 9 §4. The refusal names the key
and the fix, at start-up and in `kiosk doctor`; an allowed insecure URL is still a doctor warning."""
from __future__ import annotations

import os

import pytest

from drivers.fakes.printer import FakePrinter
from drivers.fakes.reader import FakeCodeReader
from drivers.fakes.scanner import FakeScanner
from kiosk.appliance import config
from kiosk.appliance.doctor import run_checks
from kiosk.appliance.services import build
from kiosk.portal.client import PortalClient, PortalError

REMOTE_HTTP = "http://dichvucong.example.gov.vn"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("KIOSK_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("url", [REMOTE_HTTP, "http://10.0.0.5:8765"])
def test_plain_http_to_another_machine_stops_start_up_naming_the_key_and_the_fix(url):
    with pytest.raises(config.ConfigError) as err:
        config.load(portal={"url": url})
    text = str(err.value)
    assert "portal.url" in text and "https://" in text and "portal.allow_insecure_http = true" in text


def test_the_environment_cannot_slip_an_insecure_url_past_the_check(monkeypatch):
    monkeypatch.setenv("KIOSK_PORTAL__URL", REMOTE_HTTP)
    with pytest.raises(config.ConfigError):
        config.load()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765",
                                 "https://dichvucong.example.gov.vn"])
def test_loopback_and_https_are_accepted(url):
    assert config.load(portal={"url": url}).portal.url == url


def test_an_explicit_flag_allows_plain_http_for_a_test_network():
    s = config.load(portal={"url": REMOTE_HTTP, "allow_insecure_http": True})
    assert s.portal.allow_insecure_http and s.portal.url == REMOTE_HTTP


def test_the_client_refuses_it_too_unless_allowed():
    with pytest.raises(PortalError) as err:
        PortalClient(REMOTE_HTTP, kiosk_id="KIOSK-TEST-01")
    assert err.value.code == "config"
    PortalClient(REMOTE_HTTP, kiosk_id="KIOSK-TEST-01", allow_insecure_http=True).close()


def test_kiosk_doctor_fails_with_the_technician_message(monkeypatch, tmp_path, capsys):
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_PORTAL__URL", REMOTE_HTTP)
    monkeypatch.setenv("KIOSK_KIOSK__DATA_DIR", str(tmp_path / "data"))
    assert main(["doctor", "--json", "--no-print"]) != 0
    err = capsys.readouterr().err
    assert "portal.url" in err and "plain http://" in err and "portal.allow_insecure_http = true" in err


def test_an_allowed_insecure_url_is_a_doctor_warning(tmp_path):
    settings = config.load(kiosk={"data_dir": str(tmp_path / "data")},
                           portal={"url": REMOTE_HTTP, "allow_insecure_http": True, "connect_timeout": 0.3,
                                   "read_timeout": 0.3})
    services = build(settings, scanner=FakeScanner(delay=0.0), printer=FakePrinter(), reader=FakeCodeReader(delay=0.0))
    try:
        portal = next(c for c in run_checks(services, scan=False, print_slip=False, read_code=False)
                      if c.name == "portal")
    finally:
        services.close()
    assert portal.severity in ("warning", "failed") and portal.detail.startswith("INSECURE: plain http://")
