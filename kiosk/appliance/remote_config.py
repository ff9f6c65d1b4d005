"""Settings pulled from the portal: administrators change a kiosk (its centre's name, timeouts, the printer's
head width, the payment account...) without anyone touching it. The portal's version number comes with every
heartbeat; a newer one is fetched, checked against the same validation as the site file, and saved in the data
folder as `remote-config.toml`, which `kiosk.appliance.config.load` layers over the site file (the environment
still wins).

Only the keys below can be set remotely: the portal cannot point a kiosk at another portal, change its identity
or its folders, or its technician PIN — a bad value there would leave a unit nobody can reach. Values are
checked as the drivers would take them (`driver_problems`: escpos printer profiles, driver names from
drivers.registry and their libraries, device paths and names, text lengths); a refused value refuses the whole
push (`PushRefused`, a list of typed `SettingRefused`), and a push with nothing acceptable changes nothing, so
nothing restarts.

Last known good: a push can still fail where only the hardware can tell (a device that will not open with the
new settings). `kiosk.appliance.runtime.start_services` then calls `fall_back`: the last settings the kiosk
started with (`remote-config.good.toml`, kept by `mark_good`) replace the pushed ones, the failed version is
remembered (`remote-config-status.json`: the heartbeat reports it, and it is never fetched again, so there is
no restart loop), and the kiosk starts once more. Only a newer push replaces it.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from kiosk.errors import InputRejected

log = logging.getLogger("kiosk.appliance.remote_config")

FILE_NAME = "remote-config.toml"
GOOD_FILE_NAME = "remote-config.good.toml"  # the last pushed settings the kiosk started with
STATUS_FILE_NAME = "remote-config-status.json"  # a pushed version that failed to start (for the heartbeat)
ALLOWED: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"centre_name", "commune", "agency_code", "inactivity_seconds",
                        "inactivity_warning_seconds", "orientation"}),
    "scanner": frozenset({"driver", "device", "source", "dpi", "mode", "timeout"}),
    "printer": frozenset({"driver", "connection", "profile", "width_dots", "host", "port", "serial_device",
                          "cups_queue", "native_qr", "status_query", "timeout"}),
    "code_reader": frozenset({"driver", "device"}),
    "payment": frozenset({"bank_bin", "account", "account_name"}),
    "catalog": frozenset({"sync_from_portal"}),
}


def allowed_only(settings: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The settings a portal may change, and the keys it tried to set but may not (for the log)."""
    kept: dict[str, dict[str, Any]] = {}
    refused: list[str] = []
    for section, values in settings.items():
        if not isinstance(values, dict):
            refused.append(str(section))
            continue
        for key, value in values.items():
            if key in ALLOWED.get(section, ()):
                kept.setdefault(section, {})[key] = value
            else:
                refused.append(f"{section}.{key}")
    return kept, refused


class SettingRefused(InputRejected):
    """One pushed value the kiosk will not take: `key` is "section.key", `code` says why (stable, for the log
    and the portal), `detail` is for technicians. Never carries the value itself beyond a short repr."""

    code = "setting_refused"

    def __init__(self, key: str, code: str, detail: str) -> None:
        self.key = key
        super().__init__(f"{key}: {detail}", code=code)


class PushRefused(InputRejected):
    """A whole push refused: `problems` lists every value that failed (a push is taken whole or not at all)."""

    code = "remote_config_refused"

    def __init__(self, version: int, problems: list[SettingRefused]) -> None:
        self.version, self.problems = version, problems
        super().__init__(f"version {version}: " + "; ".join(str(p) for p in problems))


#: Modules each driver imports when it is built: a push choosing a driver this unit cannot load would fail at
#: start-up, so it is refused here.
_DRIVER_MODULES: dict[tuple[str, str], str] = {
    ("scanner", "sane"): "sane", ("printer", "escpos"): "escpos", ("code_reader", "camera"): "cv2",
    ("code_reader", "hid"): "evdev", ("code_reader", "serial"): "serial",
}
#: Device names and paths as the drivers open them.
_DEV_PATH = re.compile(r"^/dev/(?!.*\.\.)[A-Za-z0-9._:/+-]{1,120}$")
_SANE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}(:[A-Za-z0-9_.:@/+-]{1,120})?$")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]{2,45}\]?$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.-]{1,127}$")
_TEXT_LIMITS = {("kiosk", "centre_name"): 120, ("kiosk", "commune"): 120, ("kiosk", "agency_code"): 32,
                ("payment", "account_name"): 60}


def _printer_profiles() -> set[str]:
    try:
        from drivers import escpos_cache  # noqa: F401 - before escpos: its printer database from the cache
        from escpos.capabilities import CAPABILITIES

        return set(CAPABILITIES.get("profiles", {}))
    except Exception:  # noqa: BLE001 - without python-escpos no profile can be checked: refuse it
        return set()


def _driver_available(kind: str, driver: str) -> bool:
    module = _DRIVER_MODULES.get((kind, driver))
    if module is None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def driver_problems(kept: dict[str, dict[str, Any]], base: Any = None) -> list[SettingRefused]:
    """Values the config model accepts but a driver would fail on at start-up (a restart loop under systemd):
    printer profiles python-escpos does not know, driver names the registry has not (or whose library this
    unit lacks), device paths and names of the wrong shape, over-long or control-character text.
    `base`: the settings the push would be layered over (to check a device against the driver in use)."""
    from drivers import registry

    problems: list[SettingRefused] = []

    def refuse(section: str, key: str, code: str, detail: str) -> None:
        problems.append(SettingRefused(f"{section}.{key}", code, detail))

    for section, values in kept.items():
        for key, value in values.items():
            if isinstance(value, str) and (len(value) > 256 or not value.isprintable()):
                refuse(section, key, "text_invalid", "text of at most 256 printable characters")
    bad = {p.key for p in problems}
    for section, values in kept.items():
        driver = values.get("driver")
        if driver is not None and f"{section}.driver" not in bad:
            known = registry.DRIVERS.get(section, {})
            if not isinstance(driver, str) or driver not in known:
                refuse(section, "driver", "driver_unknown",
                       f"{str(driver)[:40]!r} is not a {section} driver (known: {', '.join(sorted(known))})")
            elif driver in ("fake", "none"):
                refuse(section, "driver", "driver_simulated",
                       f"{driver!r} would leave the kiosk without a working {section}: only a site file may set it")
            elif not _driver_available(section, driver):
                refuse(section, "driver", "driver_unavailable",
                       f"the {driver!r} driver's library is not installed on this kiosk")
    profile = kept.get("printer", {}).get("profile")
    if profile is not None and (not isinstance(profile, str) or profile not in _printer_profiles()):
        refuse("printer", "profile", "printer_profile_unknown",
               f"{str(profile)[:40]!r} is not a python-escpos printer profile")
    for section, key, shape, what in (("printer", "serial_device", _DEV_PATH, "a /dev/... path"),
                                      ("printer", "host", _HOST, "a host name or IP address"),
                                      ("printer", "cups_queue", _QUEUE, "a CUPS queue name"),
                                      ("scanner", "device", _SANE_NAME, "a SANE device name (backend:device)")):
        value = kept.get(section, {}).get(key)
        if value is not None and f"{section}.{key}" not in bad and value != "" and (
                not isinstance(value, str) or not shape.match(value)):
            refuse(section, key, "device_name_invalid", f"{str(value)[:40]!r} is not {what}")
    device = kept.get("code_reader", {}).get("device")
    if device is not None and "code_reader.device" not in bad and device != "":
        driver = kept.get("code_reader", {}).get("driver") or getattr(getattr(base, "code_reader", None), "driver", "")
        ok = isinstance(device, str) and (_DEV_PATH.match(device) is not None
                                          or (driver == "camera" and device.isdigit() and len(device) <= 2))
        if not ok:
            refuse("code_reader", "device", "device_name_invalid",
                   f"{str(device)[:40]!r} is not a /dev/... path"
                   + (" or a camera index" if driver == "camera" else ""))
    for (section, key), limit in _TEXT_LIMITS.items():
        value = kept.get(section, {}).get(key)
        if value is not None and f"{section}.{key}" not in bad and (
                not isinstance(value, str) or len(value) > limit or not value.isprintable()):
            refuse(section, key, "text_invalid", f"text of at most {limit} printable characters")
    return problems


def check(version: int, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The settings of a push this kiosk would take, or `PushRefused` naming every value that fails. Keys the
    portal may not set are dropped (logged); a push left with nothing is refused as `nothing_accepted`."""
    from kiosk.appliance import config

    kept, refused = allowed_only(settings)
    if refused:
        log.warning("remote config: keys the portal may not set were ignored: %s", ", ".join(sorted(refused)[:20]))
    if not any(kept.values()):
        raise PushRefused(version, [SettingRefused(k, "key_not_allowed", "the portal may not set it")
                                    for k in sorted(refused)[:20]] or
                          [SettingRefused("*", "nothing_accepted", "the push holds no setting")])
    try:
        base = config.load(_ignore_remote=True)
    except config.ConfigError:
        base = None
    problems = driver_problems(kept, base)
    if problems:
        raise PushRefused(version, problems)
    try:
        config.load(**_without_overlay(kept))  # the same checks as a site file; raises ConfigError
    except config.ConfigError as e:
        raise PushRefused(version, [SettingRefused("*", "invalid_value", str(e)[:400])]) from None
    return kept


def path_in(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def good_path_in(data_dir: Path | str) -> Path:
    return Path(data_dir) / GOOD_FILE_NAME


def _read(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return 0, {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        log.warning("remote config %s unreadable, ignored: %s", path.name, type(e).__name__)
        return 0, {}
    version = data.pop("_version", 0)
    settings, _ = allowed_only(data)
    return (version if isinstance(version, int) else 0), settings


def read_overlay(data_dir: Path | str) -> tuple[int, dict[str, dict[str, Any]]]:
    """(version, settings) saved from the portal; (0, {}) when there is none or it cannot be read."""
    return _read(path_in(data_dir))


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def apply(data_dir: Path | str, version: int, settings: dict[str, Any]) -> bool:
    """Check and save the portal's settings. True when they were saved (the app restarts between sessions to
    use them); False when they were refused (the previous ones stay, nothing restarts)."""
    import tomli_w

    if version <= known_version(data_dir):
        return False  # already have it, or it is the version that failed to start and was rolled back
    try:
        kept = check(version, settings)
    except PushRefused as e:
        log.error("remote config version %d refused: %s", version, "; ".join(
            f"{p.key} ({p.code})" for p in e.problems))
        return False
    _write_durably(path_in(data_dir), tomli_w.dumps({"_version": version, **kept}).encode())
    log.info("remote config version %d saved (%d sections)", version, len(kept))
    return True


def _without_overlay(kept: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Validate the new settings on their own merits, not layered over the ones they replace."""
    return {**kept, "_ignore_remote": True}


# ---------------------------------------------------------------------------------------------- last known good
def status(data_dir: Path | str) -> dict[str, Any]:
    """What the heartbeat reports: {"version": pushed version in use (0: none), "rolled_back_from": the pushed
    version that failed to start (or None), "reason": the failure's kind}."""
    report: dict[str, Any] = {"version": read_overlay(data_dir)[0], "rolled_back_from": None, "reason": ""}
    try:
        saved = json.loads((Path(data_dir) / STATUS_FILE_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return report
    except (OSError, ValueError) as e:
        log.warning("remote config status unreadable, ignored: %s", type(e).__name__)
        return report
    failed = saved.get("rolled_back_from") if isinstance(saved, dict) else None
    if isinstance(failed, int) and failed > 0:
        report["rolled_back_from"] = failed
        report["reason"] = str(saved.get("reason", ""))[:64]
    return report


def known_version(data_dir: Path | str) -> int:
    """The newest version this kiosk has seen: the one in use, or one that failed and was rolled back (never
    fetched again, so a bad push cannot restart the kiosk into the same failure)."""
    return max(read_overlay(data_dir)[0], status(data_dir)["rolled_back_from"] or 0)


def mark_good(data_dir: Path | str) -> None:
    """The kiosk started its devices with the settings in use: they become the last known good ones (and a
    rolled-back version older than them is no longer reported)."""
    path, good = path_in(data_dir), good_path_in(data_dir)
    failed = status(data_dir)["rolled_back_from"]
    if failed is not None and read_overlay(data_dir)[0] > failed:
        (Path(data_dir) / STATUS_FILE_NAME).unlink(missing_ok=True)
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        good.unlink(missing_ok=True)  # the site file alone is good; an old good copy must not come back
        return
    try:
        if good.read_bytes() == current:
            return
    except FileNotFoundError:
        pass
    _write_durably(good, current)
    log.info("remote config version %d started fine: kept as the last known good settings",
             read_overlay(data_dir)[0])


def fall_back(data_dir: Path | str, reason: str) -> bool:
    """The kiosk could not start with the pushed settings in use: put the last known good ones back (none:
    the site file alone) and remember the failed version for the heartbeat. False when there is nothing to
    fall back from (the settings in use are already the last good ones, or the site file's alone)."""
    path, good = path_in(data_dir), good_path_in(data_dir)
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        return False
    try:
        previous: bytes | None = good.read_bytes()
    except FileNotFoundError:
        previous = None
    if previous == current:
        return False
    failed, _ = read_overlay(data_dir)
    _write_durably(Path(data_dir) / STATUS_FILE_NAME, json.dumps(
        {"rolled_back_from": failed, "reason": str(reason)[:64]}).encode())
    if previous is None:
        path.unlink()
    else:
        _write_durably(path, previous)
    log.error("remote config version %d did not start (%s): back to the last known good settings (version %d)",
              failed, str(reason)[:64], read_overlay(data_dir)[0])
    return True
