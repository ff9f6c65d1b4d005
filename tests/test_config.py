"""Configuration as a technician meets it: defaults that work, a site file that overrides them, the environment
over both, and a wrong value that stops start-up with the key named."""
from __future__ import annotations

import pytest

from kiosk import cli

from kiosk.appliance import config
@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("KIOSK_"):
            monkeypatch.delenv(key)


def test_defaults_run_the_kiosk_on_simulated_devices():
    s = config.load()
    assert (s.scanner.driver, s.printer.driver, s.code_reader.driver) == ("fake", "fake", "fake")
    assert s.kiosk.inactivity_warning_seconds < s.kiosk.inactivity_seconds
    assert s.catalog.path.exists(), "the bundled catalogue must ship with the defaults"


def test_site_file_overrides_defaults_and_environment_overrides_both(tmp_path, monkeypatch):
    site = tmp_path / "kiosk.toml"
    site.write_text('[printer]\ndriver = "escpos"\nwidth_dots = 384\n[kiosk]\ncentre_name = "UBND xã Bản Lầu"\n',
                    encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(site))
    s = config.load()
    assert (s.printer.driver, s.printer.width_dots) == ("escpos", 384)
    assert s.kiosk.centre_name == "UBND xã Bản Lầu"
    assert s.scanner.driver == "fake", "keys the site file does not name keep their defaults"
    monkeypatch.setenv("KIOSK_PRINTER__WIDTH_DOTS", "576")
    assert config.load().printer.width_dots == 576


@pytest.mark.parametrize("text, key", [
    ('[printer]\nwidth_dots = 9\n', "printer.width_dots"),
    ('[scanner]\ndriver = "twain"\n', "scanner.driver"),
    ('[portal]\nurl = "ftp://portal"\n', "portal.url"),
    ('[kiosk]\ninactivity_seconds = 30\ninactivity_warning_seconds = 40\n', "kiosk"),
    ('[printer]\nwidht_dots = 384\n', "printer.widht_dots"),
])
def test_a_bad_value_names_the_key(tmp_path, text, key):
    site = tmp_path / "kiosk.toml"
    site.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError) as err:
        config.load(site)
    assert key in str(err.value)
    assert str(site) in str(err.value)


def test_broken_toml_is_reported_with_the_file(tmp_path):
    site = tmp_path / "kiosk.toml"
    site.write_text("[printer\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(site)


def test_cli_stops_with_exit_2_and_the_message(tmp_path, capsys, monkeypatch):
    site = tmp_path / "kiosk.toml"
    site.write_text("[printer]\nwidth_dots = 9\n", encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", "")  # `--config` sets it for the process: undo that after the test
    code = cli.main(["--config", str(site), "outbox", "list"])
    assert code == 2
    assert "printer.width_dots" in capsys.readouterr().err
