"""Kiosk configuration: defaults in config/kiosk.toml, then the site file, then `KIOSK_...` environment.

Precedence (later wins): shipped defaults (config/kiosk.toml, through kiosk.resources) < site file
(`KIOSK_CONFIG` or /etc/dvc-kiosk/kiosk.toml) < environment (`KIOSK_PRINTER__DRIVER=escpos`, nested keys joined
by a double underscore). A bad value stops start-up with `ConfigError`, whose message names the key and what is wrong.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kiosk.domain.codes import KIOSK_ID_PATTERN

from kiosk import resources

DEFAULTS_NAME = "config/kiosk.toml"
SITE_FILE = Path("/etc/dvc-kiosk/kiosk.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message is for the technician."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KioskSection(_Section):
    id: str = Field("KIOSK-DEMO-01", pattern=KIOSK_ID_PATTERN)
    centre_name: str = "Bộ phận Một cửa UBND xã Tân Lập"
    commune: str = "Xã Tân Lập"
    agency_code: str = "000.20.31.H38"
    inactivity_seconds: float = Field(90.0, gt=5, le=3600)
    inactivity_warning_seconds: float = Field(20.0, gt=1, le=600)
    orientation: Literal["landscape", "portrait"] = "landscape"
    fullscreen: bool = True
    data_dir: Path = Path("/var/lib/dvc-kiosk")
    log_dir: Path = Path("/var/log/dvc-kiosk")
    technician_pin_hash: str = ""


class PortalSection(_Section):
    url: str = Field("http://127.0.0.1:8765", pattern=r"^https?://")
    ca_file: str = ""
    connect_timeout: float = Field(3.0, gt=0, le=60)
    read_timeout: float = Field(15.0, gt=0, le=300)
    upload_timeout: float = Field(120.0, gt=0, le=3600)
    credentials_file: str = ""
    # Plain http:// is refused for any host but this machine (the sandbox): set true only on a closed test network.
    allow_insecure_http: bool = False
    # Interactive calls (login, one-time code, status, queue ticket, rating) on transient faults: tries in all,
    # backoff base and cap (seconds, with jitter), and the deadline of one call, tries and waits included.
    retry_attempts: int = Field(4, ge=1, le=10)
    retry_base: float = Field(0.5, ge=0, le=30)
    retry_cap: float = Field(4.0, ge=0, le=120)
    call_deadline: float = Field(20.0, gt=0, le=300)

    @model_validator(mode="after")
    def _no_plain_http_off_this_machine(self) -> PortalSection:
        from kiosk.portal.urls import insecure_url_refused

        refused = insecure_url_refused(self.url, self.allow_insecure_http)
        if refused:
            raise ValueError(f"portal.url: {refused}")
        return self


class ScannerSection(_Section):
    driver: Literal["fake", "sane"] = "fake"
    device: str = ""  # SANE device name, e.g. "fujitsu:fi-7160:12345"; empty = first found
    source: Literal["feeder", "flatbed"] = "feeder"
    dpi: int = Field(200, ge=75, le=600)
    mode: Literal["gray", "color", "lineart"] = "gray"
    timeout: float = Field(90.0, gt=1, le=600)
    fake_delay: float = Field(0.15, ge=0, le=10)
    fake_fault: str = ""
    # The outbox gives scanned pages an invisible OCR text layer (tesseract, vie) before delivery (issue 14).
    text_layer: bool = True


class PrinterSection(_Section):
    driver: Literal["fake", "escpos"] = "fake"
    connection: Literal["usb", "serial", "network", "cups", "file"] = "network"
    profile: str = "TM-T20II"
    width_dots: int = Field(576, ge=200, le=1024)
    host: str = "127.0.0.1"
    port: int = Field(9100, ge=1, le=65535)
    usb_vendor: int = 0x04B8
    usb_product: int = 0x0E15
    serial_device: str = "/dev/ttyUSB0"
    baudrate: int = 19200
    cups_queue: str = ""
    file_path: str = ""
    native_qr: bool = True
    status_query: bool = True
    timeout: float = Field(20.0, gt=0, le=120)
    fake_fault: str = ""


class CodeReaderSection(_Section):
    driver: Literal["fake", "camera", "hid", "serial"] = "fake"
    device: str = ""  # camera index or video file; /dev/input/by-id/... ; /dev/ttyACM0
    width: int = 1280
    height: int = 720
    baudrate: int = 9600
    fake_codes: list[str] = Field(default_factory=list)
    fake_fault: str = ""


class SpeechSection(_Section):
    """Spoken guidance (drivers/speech.py): "fake" records, "espeak" speaks through espeak-ng."""

    driver: Literal["fake", "espeak"] = "fake"
    output: Literal["alsa", "wav_dir"] = "alsa"  # wav_dir: WAV files in `wav_dir` (CI, the simulator)
    wav_dir: str = ""
    headphones: Literal["auto", "always", "never"] = "auto"  # auto: the ALSA headphone-jack control
    default_volume: int = Field(60, ge=0, le=100)
    alsa_device: str = ""
    rate_wpm: int = Field(160, ge=80, le=400)

    @model_validator(mode="after")
    def _wav_dir_named(self) -> SpeechSection:
        if self.driver == "espeak" and self.output == "wav_dir" and not self.wav_dir:
            raise ValueError("speech.output = 'wav_dir' needs speech.wav_dir")
        return self


class KeypadSection(_Section):
    """The tactile keypad (drivers/keypad.py): none, fake (demo, tests) or evdev."""

    driver: Literal["none", "fake", "evdev"] = "none"
    device: str = ""  # /dev/input/by-id/...-event-kbd
    keymap: dict[str, str] = Field(default_factory=dict)  # key name -> action ("NONE" unmaps), over DEFAULT_KEYMAP


class ChipReaderSection(_Section):
    """The contactless reader for the chip ID card (drivers/chip.py, issue 11): none, fake (demo) or pcsc."""

    driver: Literal["none", "fake", "pcsc"] = "fake"
    reader: str = ""       # a part of the PC/SC reader's name; "" = the first reader
    csca_bundle: str = ""  # PEM/DER file or folder of the CSCA certificates passive authentication trusts
    timeout: float = Field(15.0, gt=0, le=120)  # one chip read (BAC, DG1, DG13, DG2, SOD)

    @model_validator(mode="after")
    def _csca_for_pcsc(self) -> ChipReaderSection:
        if self.driver == "pcsc" and not self.csca_bundle:
            raise ValueError("chip_reader.driver = 'pcsc' needs chip_reader.csca_bundle "
                             "(no card is trusted without it)")
        return self


class CatalogSection(_Section):
    path: Path = Field(default_factory=lambda: resources.resource_path("config/procedures.json"))
    sync_from_portal: bool = True


class HolidaysSection(_Section):
    path: Path = Field(default_factory=lambda: resources.resource_path("config/holidays.toml"))


class PaymentSection(_Section):
    bank_bin: str = Field("", pattern=r"^(\d{6})?$")
    account: str = Field("", pattern=r"^[0-9A-Za-z]{0,19}$")
    account_name: str = ""


class PostalSection(_Section):
    """Results by post (issue 14): whether this centre hands results to the public postal service (for the
    procedures whose catalogue entry allows it), and the postage it charges, shown as a fee line."""

    enabled: bool = True
    postage_vnd: int = Field(25_000, ge=0, le=1_000_000)
    paid_on_delivery: bool = True  # the citizen pays the postman; False: paid with the fee at the counter


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIOSK_", env_nested_delimiter="__", extra="forbid")

    kiosk: KioskSection = KioskSection()
    portal: PortalSection = PortalSection()
    scanner: ScannerSection = ScannerSection()
    printer: PrinterSection = PrinterSection()
    code_reader: CodeReaderSection = CodeReaderSection()
    catalog: CatalogSection = CatalogSection()
    holidays: HolidaysSection = HolidaysSection()
    payment: PaymentSection = PaymentSection()
    postal: PostalSection = PostalSection()
    speech: SpeechSection = SpeechSection()
    keypad: KeypadSection = KeypadSection()
    chip_reader: ChipReaderSection = ChipReaderSection()

    @field_validator("kiosk")
    @classmethod
    def _warning_shorter_than_timeout(cls, v: KioskSection) -> KioskSection:
        if v.inactivity_warning_seconds >= v.inactivity_seconds:
            raise ValueError("inactivity_warning_seconds must be shorter than inactivity_seconds")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ):
        # init (the merged TOML files) < environment
        return (env_settings, init_settings)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e


def defaults_file() -> Path:
    """The shipped defaults. Missing means a broken install: a loud ConfigError, never an empty default."""
    try:
        return resources.resource_path(DEFAULTS_NAME)
    except resources.MissingResource as e:
        raise ConfigError(f"the kiosk's default configuration is missing: {e}") from None


def read_defaults() -> dict[str, Any]:
    return _read_toml(defaults_file())


def site_file() -> Path | None:
    named = os.environ.get("KIOSK_CONFIG")
    if named:
        return Path(named)
    return SITE_FILE if SITE_FILE.exists() else None


def load(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Load and validate the configuration. `path` replaces the site file; `overrides` win over everything.
    Settings the portal pushed (kiosk.appliance.remote_config, in the data folder) lie between the site file and the
    environment."""
    ignore_remote = bool(overrides.pop("_ignore_remote", False))
    data = read_defaults()
    site = Path(path) if path else site_file()
    if site is not None:
        data = _deep_merge(data, _read_toml(site))
    if overrides:
        data = _deep_merge(data, overrides)
    if not ignore_remote:
        from kiosk.appliance import remote_config
        # the data folder as the settings will have it: the environment wins there too
        data_dir = next((v for k, v in os.environ.items() if k.upper() == "KIOSK_KIOSK__DATA_DIR" and v), None) \
            or data.get("kiosk", {}).get("data_dir", KioskSection.model_fields["data_dir"].default)
        _, pushed = remote_config.read_overlay(data_dir)
        if pushed:
            data = _deep_merge(data, pushed)
            if overrides:  # what the caller asked for still wins
                data = _deep_merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
        where = f" (site file {site})" if site else ""
        raise ConfigError("invalid configuration" + where + ":\n" + "\n".join(lines)) from None
