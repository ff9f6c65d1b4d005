"""The files the kiosk ships besides its code — config defaults, the procedure catalogue, holidays, fonts, systemd
units, the OpenAPI contract — found the same way in a checkout and in an installed wheel.

They live in the repository's own top-level folders (`config/`, `assets/`, `systemd/`, `docs/openapi.json`), the
single source. The package `kiosk._resources` holds symbolic links to those folders, so in a checkout (and an
editable install) the links lead to them, and a wheel build copies what they point at into the wheel as package data
(pyproject.toml, [tool.setuptools.package-data]). Names are the paths in the repository:

    resource_path("config/kiosk.toml")
    resource_path("assets/fonts/NotoSans-Regular.ttf")

A resource that is not there is a broken install: `MissingResource`, never a silent empty default.
"""
from __future__ import annotations

import atexit
import contextlib
from importlib import resources as _resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "kiosk._resources"

_extracted = contextlib.ExitStack()  # only for an install that is not plain files (a zip): copies live until exit
atexit.register(_extracted.close)


class MissingResource(FileNotFoundError):
    """A file the kiosk ships is missing: the installation is incomplete."""


def files() -> Traversable:
    """The root of the shipped files (`config/`, `assets/`, `systemd/`, `docs/`)."""
    return _resources.files(PACKAGE)


def _traverse(name: str) -> Traversable:
    node = files()
    for part in name.strip("/").split("/"):
        node = node / part
    return node


def exists(name: str) -> bool:
    node = _traverse(name)
    return node.is_file() or node.is_dir()


def resource_path(name: str) -> Path:
    """The file (or folder) `name` as a real path on disk; `MissingResource` when it is not there."""
    node = _traverse(name)
    if not (node.is_file() or node.is_dir()):
        raise MissingResource(f"{name} is missing from the kiosk's installation ({PACKAGE}); "
                              "reinstall the dvc-kiosk package")
    if isinstance(node, Path):
        return node
    return _extracted.enter_context(_resources.as_file(node))


def read_text(name: str, encoding: str = "utf-8") -> str:
    return resource_path(name).read_text(encoding=encoding)


def read_bytes(name: str) -> bytes:
    return resource_path(name).read_bytes()
