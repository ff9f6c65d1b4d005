"""Settings pulled from the portal: administrators change a kiosk (its centre's name, timeouts, the printer's
head width, the payment account...) without anyone touching it. The portal's version number comes with every
heartbeat; a newer one is fetched, checked against the same validation as the site file, and saved in the data
folder as `remote-config.toml`, which `kiosk.appliance.config.load` layers over the site file (the environment
still wins).

Only the keys below can be set remotely: the portal cannot point a kiosk at another portal, change its identity
or its folders, or its technician PIN — a bad value there would leave a unit nobody can reach.
"""
from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

log = logging.getLogger("kiosk.appliance.remote_config")

FILE_NAME = "remote-config.toml"
ALLOWED: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"centre_name", "commune", "agency_code", "inactivity_seconds",
                        "inactivity_warning_seconds", "orientation"}),
    "scanner": frozenset({"source", "dpi", "mode", "timeout"}),
    "printer": frozenset({"profile", "width_dots", "native_qr", "status_query", "timeout"}),
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


def driver_problems(kept: dict[str, dict[str, Any]]) -> list[str]:
    """Values the config model accepts but a driver would fail on at start-up (a restart loop under systemd):
    printer profiles python-escpos does not know, over-long or control-character text."""
    problems: list[str] = []
    profile = kept.get("printer", {}).get("profile")
    if profile is not None:
        try:
            from escpos.capabilities import CAPABILITIES

            known = set(CAPABILITIES.get("profiles", {}))
        except Exception:  # noqa: BLE001 - without python-escpos no profile can be checked: refuse it
            known = set()
        if not isinstance(profile, str) or profile not in known:
            problems.append(f"printer.profile: {profile!r} is not a python-escpos printer profile")
    for section, key, limit in (("kiosk", "centre_name", 120), ("kiosk", "commune", 120),
                                ("kiosk", "agency_code", 32), ("payment", "account_name", 60)):
        value = kept.get(section, {}).get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit or not value.isprintable()):
            problems.append(f"{section}.{key}: text of at most {limit} printable characters")
    return problems


def path_in(data_dir: Path | str) -> Path:
    return Path(data_dir) / FILE_NAME


def read_overlay(data_dir: Path | str) -> tuple[int, dict[str, dict[str, Any]]]:
    """(version, settings) saved from the portal; (0, {}) when there is none or it cannot be read."""
    try:
        with path_in(data_dir).open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return 0, {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        log.warning("remote config unreadable, ignored: %s", type(e).__name__)
        return 0, {}
    version = data.pop("_version", 0)
    settings, _ = allowed_only(data)
    return (version if isinstance(version, int) else 0), settings


def apply(data_dir: Path | str, version: int, settings: dict[str, Any]) -> bool:
    """Check and save the portal's settings. True when they were saved (the app restarts between sessions to
    use them); False when they were refused (the previous ones stay)."""
    import tomli_w

    from kiosk.appliance import config
    current_version, current = read_overlay(data_dir)
    if version <= current_version:
        return False
    kept, refused = allowed_only(settings)
    if refused:
        log.warning("remote config: keys the portal may not set were ignored: %s", ", ".join(sorted(refused)))
    if not any(kept.values()):
        log.warning("remote config version %d changes nothing this kiosk accepts: ignored", version)
        return False  # nothing saved, so no restart
    problems = driver_problems(kept)
    if problems:
        log.error("remote config version %d refused: %s", version, "; ".join(problems))
        return False
    try:
        config.load(**_without_overlay(kept))  # the same checks as a site file; raises ConfigError
    except config.ConfigError as e:
        log.error("remote config version %d refused: %s", version, e)
        return False
    path = path_in(data_dir)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(tomli_w.dumps({"_version": version, **kept}).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    log.info("remote config version %d saved (%d sections)", version, len(kept))
    return True


def _without_overlay(kept: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Validate the new settings on their own merits, not layered over the ones they replace."""
    return {**kept, "_ignore_remote": True}
