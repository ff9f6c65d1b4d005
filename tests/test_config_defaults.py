"""One set of defaults: what config/kiosk.toml ships and what the settings model assumes agree, so a key left
out of a site file means the same thing whichever a technician reads."""
from __future__ import annotations

import enum
import tomllib
from pathlib import Path

from pydantic import BaseModel

from kiosk import resources
from kiosk.appliance import config


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def test_every_shipped_default_is_the_models_default() -> None:
    shipped = tomllib.loads(resources.resource_path("config/kiosk.toml").read_text(encoding="utf-8"))
    sections = {name: f.annotation for name, f in config.Settings.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)}
    assert set(shipped) <= set(sections), set(shipped) - set(sections)
    drift = []
    for name, values in shipped.items():
        fields = sections[name].model_fields
        for key, value in values.items():
            assert key in fields, f"[{name}] {key} is shipped but the settings model has no such key"
            default = _plain(fields[key].get_default(call_default_factory=True))
            if default != value:
                drift.append(f"[{name}] {key}: kiosk.toml {value!r} vs model {default!r}")
    assert not drift, "\n".join(drift)
    assert len([k for v in shipped.values() for k in v]) > 20  # the file really was read
